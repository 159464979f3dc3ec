package main

import (
	"context"
	"errors"
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
	"'sudo setcap cap_net_raw,cap_net_admin=eip %s', or capture with tcpdump and analyse with -r"

// runLive captures on an interface until ctx ends (Ctrl-C, SIGTERM),
// --duration passes or -c packets were read, then reports as offline mode
// does. now is the wall clock, used only to expire connections while the
// interface is silent and to time interim reports.
func runLive(ctx context.Context, cfg Config, filter *filter, tracker *analyze.Tracker, out *output, now func() time.Time) int {
	live, err := capture.OpenLive(capture.LiveConfig{
		Interface: cfg.Interface, Snaplen: cfg.Snaplen, BufferSize: cfg.BufferKiB * 1024,
		Filter: filter.kernel(), Promisc: cfg.Promisc,
	})
	if err != nil {
		if errors.Is(err, capture.ErrPermission) {
			exe, _ := os.Executable()
			out.logger.Printf("%s: "+permissionHint, cfg.Interface, exe)
		} else {
			out.logger.Print(err)
		}
		return exitError
	}
	defer live.Close()
	if cfg.User != "" {
		if err := dropPrivileges(cfg.User); err != nil {
			out.logger.Printf("-Z %s: %v", cfg.User, err)
			return exitError
		}
	}
	dec, err := capture.NewDecoder(live.LinkType())
	if err != nil {
		out.logger.Print(err)
		return exitError
	}
	var save *capture.Writer
	if cfg.WriteFile != "" {
		if save, err = capture.CreateFile(cfg.WriteFile, live.LinkType(), live.Snaplen()); err != nil {
			out.logger.Printf("-w %s: %v", cfg.WriteFile, err)
			return exitError
		}
		defer func() {
			if err := save.Close(); err != nil {
				out.logger.Printf("-w %s: %v", cfg.WriteFile, err)
			}
		}()
	}
	var metrics *metricsServer
	if cfg.MetricsAddr != "" {
		if metrics, err = startMetrics(cfg.MetricsAddr); err != nil {
			out.logger.Printf("--metrics-listen %s: %v", cfg.MetricsAddr, err)
			return exitError
		}
		defer metrics.Close()
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	var tick <-chan time.Time
	if cfg.Interval > 0 {
		t := time.NewTicker(cfg.Interval)
		defer t.Stop()
		tick = t.C
	}
	out.totals.Interface = cfg.Interface
	out.logger.Printf("capturing on %s (%s), snaplen %d; Ctrl-C stops and reports", cfg.Interface, filter.kernel(), live.Snaplen())

	drain := func() {
		cs := tracker.Drain()
		if metrics != nil {
			metrics.countEnded(cs)
			metrics.update(tracker, live)
		}
		out.endedConns(cs)
	}
	var seg analyze.Segment
	var lastTick time.Time
	var readErr error
loop:
	for cfg.Count == 0 || out.totals.Packets < cfg.Count {
		select {
		case <-ctx.Done():
			break loop
		case <-usr1:
			out.interim(now(), tracker.Snapshot(), segments(tracker))
		case <-tick:
			out.interim(now(), tracker.Snapshot(), segments(tracker))
		default:
		}
		data, ci, err := live.ReadPacket()
		if errors.Is(err, capture.ErrTimeout) {
			// A silent interface: let idle connections expire by the
			// clock the packets would show.
			tracker.Advance(now())
			drain()
			continue
		}
		if err != nil {
			readErr = err
			break
		}
		out.totals.Packets++
		if save != nil {
			if err := save.WritePacket(ci, data); err != nil {
				out.logger.Printf("-w %s: %v; no longer saving packets", cfg.WriteFile, err)
				save.Close()
				save = nil
			}
		}
		if dec.Decode(data, ci, &seg) && filter.match(&seg) {
			tracker.Observe(seg)
		}
		if t := now(); t.Sub(lastTick) >= time.Second {
			lastTick = t
			drain()
		}
	}
	out.totals.Malformed = dec.Stats.Malformed
	if st, err := live.Stats(); err == nil {
		out.totals.Capture = &report.CaptureStats{Received: st.Received, KernelDropped: st.KernelDropped, IfDropped: st.IfDropped}
		out.logger.Printf("%d packets captured, %d received by filter, %d dropped by kernel, %d dropped by interface",
			out.totals.Packets, st.Received, st.KernelDropped, st.IfDropped)
	}
	drain()
	if code := out.final(tracker.Flush()); code != exitOK {
		return code
	}
	if readErr != nil {
		out.logger.Printf("%s: %v", cfg.Interface, readErr)
		return exitError
	}
	return exitOK
}

func segments(t *analyze.Tracker) int64 {
	n, _ := t.Counters()
	return n
}
