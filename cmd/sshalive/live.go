package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
	"github.com/sshalive/sshalive/report"
)

// permissionHint is the one line a user without capture rights gets.
const permissionHint = "no permission to capture: run as root (sudo), or give the binary the capability once with " +
	"'sudo setcap cap_net_raw=ep %s', or capture with tcpdump and analyse with -r"

// liveSession is what a live capture holds open: the interface's sockets
// (one, or a fanout group: one per Tracker of shards), a decoder per socket,
// the -w file and the metrics server.
type liveSession struct {
	cfg     Config
	lives   []*capture.Live // all alike: lives[0] says the link type, filter, snaplen
	decs    []*capture.Decoder
	shards  *analyze.Shards
	save    *capture.Writer
	metrics *metricsServer
	out     *output
}

// openLive opens the interface, drops privileges, and opens the -w file
// and the metrics server; on error it has said why and closed what it
// opened.
func openLive(cfg Config, filter *filter, shards *analyze.Shards, out *output) (*liveSession, bool) {
	expr, cooked := filter.kernel()
	lives, err := capture.OpenLiveGroup(capture.LiveConfig{
		Interface: cfg.Interface, Snaplen: cfg.Snaplen, BufferSize: cfg.BufferKiB * 1024,
		Filter: expr, CookedFilter: cooked, Promisc: cfg.Promisc,
	}, len(shards.Trackers))
	if err != nil {
		if errors.Is(err, capture.ErrPermission) {
			exe, _ := os.Executable()
			out.logger.Printf("%s: "+permissionHint, cfg.Interface, exe)
		} else {
			out.logger.Print(err)
		}
		return nil, false
	}
	ls := &liveSession{cfg: cfg, lives: lives, shards: shards, out: out}
	if err := ls.open(); err != nil {
		out.logger.Print(err)
		ls.Close()
		return nil, false
	}
	return ls, true
}

// open opens the session's outputs — the -w file, the --html file, the
// metrics listener — and then gives up every privilege (confine; -Z
// switches user first): the outputs are opened with the rights that opened
// the interface, so a capture never runs for half an hour to find it may
// not write its report, and no packet is parsed with a capability.
func (ls *liveSession) open() error {
	cfg := ls.cfg
	for range ls.lives {
		dec, err := capture.NewDecoder(ls.lives[0].LinkType())
		if err != nil {
			return err
		}
		ls.decs = append(ls.decs, dec)
	}
	var err error
	if cfg.WriteFile != "" {
		if ls.save, err = capture.CreateFile(cfg.WriteFile, ls.lives[0].LinkType(), ls.lives[0].Snaplen()); err != nil {
			return fmt.Errorf("-w %s: %w", cfg.WriteFile, err)
		}
	}
	if cfg.HTML != "" && cfg.HTML != "-" {
		if ls.out.htmlOut, err = os.Create(cfg.HTML); err != nil {
			return fmt.Errorf("--html %s: %w", cfg.HTML, err)
		}
	}
	if cfg.MetricsAddr != "" {
		if ls.metrics, err = startMetrics(cfg.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-listen %s: %w", cfg.MetricsAddr, err)
		}
	}
	return confine(cfg.User)
}

// Close closes what the session holds.
func (ls *liveSession) Close() {
	if ls.metrics != nil {
		ls.metrics.Close()
	}
	if ls.save != nil {
		if err := ls.save.Close(); err != nil {
			ls.out.logger.Printf("-w %s: %v", ls.cfg.WriteFile, err)
		}
	}
	if ls.out.htmlOut != nil { // not written: the session failed to start
		ls.out.htmlOut.Close()
		ls.out.htmlOut = nil
	}
	for _, l := range ls.lives {
		l.Close()
	}
}

// saveFailed stops saving after a -w write error (a full disk), says so
// once, and makes the exit code exitOutput; the analysis goes on.
func (ls *liveSession) saveFailed(err error) {
	ls.out.outputFailed("-w "+ls.cfg.WriteFile, fmt.Errorf("%w; no longer saving packets, the analysis goes on", err))
	ls.save.Close()
	ls.save = nil
}

// drain reports the connections that ended and refreshes the metrics.
func (ls *liveSession) drain(tracker *analyze.Tracker) {
	ls.report(tracker.Drain(), func() totals { return ls.counters([]*analyze.Tracker{tracker}) })
}

// report reports connections that ended, and refreshes the metrics with
// the counters as they stand.
func (ls *liveSession) report(cs []analyze.Conn, counters func() totals) {
	if ls.metrics != nil {
		ls.metrics.countEnded(cs)
		ls.metrics.totals.set(counters())
	}
	ls.out.endedConns(cs)
	if ls.save != nil {
		if err := ls.save.Flush(); err != nil {
			ls.saveFailed(err)
		}
	}
}

// runLive captures on an interface until ctx ends (Ctrl-C, SIGTERM),
// --duration passes or -c packets were read, then reports as offline mode
// does. now is the wall clock, used only to expire connections while the
// interface is silent and to time interim reports.
func runLive(ctx context.Context, cfg Config, filter *filter, shards *analyze.Shards, out *output, now func() time.Time) int {
	ls, ok := openLive(cfg, filter, shards, out)
	if !ok {
		return exitError
	}
	defer ls.Close()
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	out.totals.Interface = cfg.Interface
	sockets := ""
	if len(ls.lives) > 1 {
		sockets = fmt.Sprintf(", %d sockets in a fanout group", len(ls.lives))
	}
	out.logger.Printf("capturing on %s (%s), snaplen %d%s; Ctrl-C stops and reports", cfg.Interface, ls.lives[0].Filter(), ls.lives[0].Snaplen(), sockets)
	var readErr error
	if len(ls.lives) == 1 {
		readErr = ls.loop(ctx, filter, shards.Trackers[0], now)
	} else {
		readErr = ls.fanout(ctx, filter, now)
	}
	for _, d := range ls.decs {
		out.totals.Malformed += d.Stats.Malformed
	}
	if st, ok := ls.stats(); ok {
		out.totals.Capture = &report.CaptureStats{Received: st.Received, KernelDropped: st.KernelDropped, IfDropped: st.IfDropped}
		out.logger.Printf("%d packets captured, %d received by filter, %d dropped by kernel, %d dropped by interface",
			out.totals.Packets, st.Received, st.KernelDropped, st.IfDropped)
	}
	for _, t := range shards.Trackers {
		ls.report(t.Drain(), func() totals { return ls.counters(shards.Trackers) })
	}
	if ls.save != nil {
		if err := ls.save.Close(); err != nil {
			ls.out.outputFailed("-w "+cfg.WriteFile, err)
		}
		ls.save = nil
	}
	if out.stdoutBroken() {
		out.logger.Printf("stopped capturing: stdout is closed; the -w and --html files are written")
	}
	if code := out.final(shards.Flush()); code != exitOK {
		return code
	}
	if readErr != nil {
		out.logger.Printf("%s: %v", cfg.Interface, readErr)
		return exitError
	}
	return exitOK
}

// loop reads packets until ctx ends, -c is reached or reading fails (the
// error it returns), with interim reports on --interval and SIGUSR1.
func (ls *liveSession) loop(ctx context.Context, filter *filter, tracker *analyze.Tracker, now func() time.Time) error {
	out := ls.out
	usr1, tick, stopInterim := interimTriggers(ls.cfg.Interval)
	defer stopInterim()
	var seg analyze.Segment
	var lastTick, stopAt time.Time
	for ls.cfg.Count == 0 || out.totals.Packets < ls.cfg.Count {
		if out.stdoutBroken() {
			return nil
		}
		select {
		case <-ctx.Done():
			// What the kernel holds already (a FIN just before Ctrl-C)
			// is read before the report: until the ring is empty or
			// stopDrain has passed.
			if stopAt.IsZero() {
				stopAt = now().Add(stopDrain)
			} else if now().After(stopAt) {
				return nil
			}
		case <-usr1:
			out.interim(now(), tracker.Snapshot(), segments(tracker))
		case <-tick:
			out.interim(now(), tracker.Snapshot(), segments(tracker))
		default:
		}
		data, ci, err := ls.lives[0].ReadPacket()
		if errors.Is(err, capture.ErrTimeout) {
			if !stopAt.IsZero() {
				return nil // stopping, and nothing left
			}
			// A silent interface: let idle connections expire by the
			// clock the packets would show.
			tracker.Advance(now())
			ls.drain(tracker)
			continue
		}
		if err != nil {
			return err
		}
		out.totals.Packets++
		if ls.save != nil {
			err := ls.save.WritePacket(ci, data)
			if err == nil && ls.cfg.PacketBuffered {
				err = ls.save.Flush()
			}
			if err != nil {
				ls.saveFailed(err)
			}
		}
		if ls.decs[0].Decode(data, ci, &seg) && filter.match(&seg) {
			tracker.Observe(seg)
		}
		if out.totals.Packets%batchSegments == 0 {
			memTick()
		}
		if t := now(); t.Sub(lastTick) >= time.Second {
			lastTick = t
			ls.drain(tracker)
		}
	}
	return nil
}

// interimTriggers are what asks for an interim report: SIGUSR1, and a
// tick every interval (none when 0); stop releases them.
func interimTriggers(interval time.Duration) (usr1 <-chan os.Signal, tick <-chan time.Time, stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	if interval <= 0 {
		return sig, nil, func() { signal.Stop(sig) }
	}
	t := time.NewTicker(interval)
	return sig, t.C, func() { signal.Stop(sig); t.Stop() }
}

// stopDrain bounds the reading of what the kernel still holds once the
// capture is asked to stop.
const stopDrain = 500 * time.Millisecond

func segments(t *analyze.Tracker) int64 {
	n, _ := t.Counters()
	return n
}

// stats sums the kernel's counters of the sockets.
func (ls *liveSession) stats() (capture.LiveStats, bool) {
	var sum capture.LiveStats
	for _, l := range ls.lives {
		st, err := l.Stats()
		if err != nil {
			return sum, false
		}
		sum.Received += st.Received
		sum.KernelDropped += st.KernelDropped
		sum.IfDropped += st.IfDropped
	}
	return sum, true
}

// counters are the metrics' totals over the Trackers given (read on the
// goroutines that own them) and the sockets.
func (ls *liveSession) counters(ts []*analyze.Tracker) totals {
	var v totals
	for _, t := range ts {
		v.add(t)
	}
	v.capture, v.captureKnown = ls.stats()
	return v
}

// add counts a Tracker's open connections, segments and evictions in v.
func (v *totals) add(t *analyze.Tracker) {
	segs, evicted := t.Counters()
	v.open += t.Open()
	v.segments += segs
	v.evicted += int64(evicted)
}
