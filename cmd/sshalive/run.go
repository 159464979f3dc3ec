package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// Exit codes (documented in README.md).
const (
	exitOK      = 0
	exitError   = 1 // nothing could be analysed, no SSH traffic, or the capture failed
	exitUsage   = 2
	exitPartial = 3 // some input was unreadable or cut short; the rest is reported
	exitOutput  = 4 // an output could not be written (stdout closed, disk full); the others are
)

// Config is the parsed command line.
type Config struct {
	Files      []string
	Interface  string
	ListIfaces bool
	Ports      []int
	JSON       bool
	Events     bool
	HTML       string
	Count      int64
	Duration   time.Duration
	Interval   time.Duration
	Snaplen    int
	BufferKiB  int
	Promisc    bool
	WriteFile  string
	// PacketBuffered flushes the -w file after every packet (-U).
	PacketBuffered bool
	MetricsAddr    string
	User           string
	IdleTimeout    time.Duration
	MaxConns       int
	Filter         []string // trailing tcpdump-style expression
	All            bool     // --all: every connection's full detail
	Causes         []string // --cause: only connections that ended of these causes
	UTC            bool     // --utc: times in UTC (default: local time)
}

const usageText = `usage: sshalive -r FILE [-r FILE...] [options] [expression]
       sshalive -i IFACE [options] [expression]
       sshalive -D

Tells who keeps each SSH session alive (SSH-layer and TCP keepalives), how
often, and how the session ended. An expression (tcpdump syntax) replaces the
default filter "tcp port 22".

`

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	var cfg Config
	fs := pflag.NewFlagSet("sshalive", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SetInterspersed(true)
	fs.SortFlags = false
	fs.StringArrayVarP(&cfg.Files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, gzip; - for stdin); repeatable")
	fs.StringVarP(&cfg.Interface, "interface", "i", "", "capture live on `IFACE` (any = all interfaces)")
	fs.BoolVarP(&cfg.ListIfaces, "list-interfaces", "D", false, "list the interfaces live capture can use")
	fs.IntSliceVarP(&cfg.Ports, "port", "p", nil, "SSH server `PORT` (default 22); repeatable")
	fs.BoolVar(&cfg.JSON, "json", false, "write JSON Lines: one record per connection, then a summary record")
	fs.BoolVar(&cfg.Events, "events", false, "print the packet timeline with keepalives labelled")
	fs.StringVar(&cfg.HTML, "html", "", "also write a self-contained HTML report (timelines, end, risk) to `FILE`")
	fs.Int64VarP(&cfg.Count, "count", "c", 0, "stop after `N` packets")
	fs.DurationVar(&cfg.Duration, "duration", 0, "live: stop after this long (e.g. 10m)")
	fs.DurationVar(&cfg.Interval, "interval", 0, "live: print an interim report this often (SIGUSR1 prints one on demand)")
	fs.IntVarP(&cfg.Snaplen, "snapshot-length", "s", 2048, "live: bytes kept per packet; the handshake needs ~2 KB for exact sizes")
	fs.IntVarP(&cfg.BufferKiB, "buffer-size", "B", 0, "live: kernel capture buffer in `KiB` (libpcap's default when 0)")
	fs.BoolVar(&cfg.Promisc, "promisc", false, "live: put the interface in promiscuous mode")
	fs.StringVarP(&cfg.WriteFile, "write", "w", "", "live: also save the packets analysed to this pcap `FILE`")
	fs.BoolVarP(&cfg.PacketBuffered, "packet-buffered", "U", false, "live: write each packet to the -w file as it arrives (default: every second)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-listen", "", "live: serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9273)")
	fs.StringVarP(&cfg.User, "relinquish-privileges", "Z", "", "live: drop to `USER` after opening the interface")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 3*time.Hour, "forget a connection idle this long (packet time)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 100000, "connections tracked at once; the oldest are summarised early beyond it")
	fs.BoolVar(&cfg.All, "all", false, "full detail of every connection (with more than 5, by default only of those that need attention)")
	fs.StringSliceVar(&cfg.Causes, "cause", nil, "only connections that ended of `CAUSE` (keepalive-timeout, idle-drop, open, ...); repeatable or comma list")
	fs.BoolVar(&cfg.UTC, "utc", false, "show times in UTC (default: local time with its zone, as tcpdump)")
	fs.BoolP("numeric", "n", false, "accepted for tcpdump habit (-n, -nn); addresses are always numeric")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *showVersion {
		return cfg, errVersion
	}
	cfg.Filter = fs.Args()
	switch {
	case cfg.ListIfaces:
		return cfg, nil
	case len(cfg.Files) == 0 && cfg.Interface == "":
		return cfg, errors.New("no input: give -r FILE (or -r - for stdin), or -i IFACE")
	case len(cfg.Files) > 0 && cfg.Interface != "":
		return cfg, errors.New("-r and -i exclude each other")
	}
	for _, p := range cfg.Ports {
		if p < 1 || p > 65535 {
			return cfg, fmt.Errorf("--port %d: not a TCP port (1-65535)", p)
		}
	}
	if cfg.Count < 0 || cfg.MaxConns < 1 || cfg.IdleTimeout <= 0 || cfg.Duration < 0 || cfg.Interval < 0 || cfg.BufferKiB < 0 {
		return cfg, errors.New("-c, --duration, --interval, -B, --max-conns and --idle-timeout must not be negative")
	}
	if cfg.Snaplen < 96 || cfg.Snaplen > 262144 {
		return cfg, fmt.Errorf("-s %d: between 96 and 262144 bytes", cfg.Snaplen)
	}
	if cfg.Interface == "" {
		for name, set := range map[string]bool{"--duration": cfg.Duration > 0, "--interval": cfg.Interval > 0, "-w": cfg.WriteFile != "", "-U": cfg.PacketBuffered,
			"--metrics-listen": cfg.MetricsAddr != "", "-Z": cfg.User != "", "-B": cfg.BufferKiB > 0} {
			if set {
				return cfg, fmt.Errorf("%s needs live capture (-i IFACE)", name)
			}
		}
	}
	return cfg, nil
}

var errVersion = errors.New("version")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger := log.New(stderr, "sshalive: ", 0)
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, "sshalive", versionString())
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case err != nil:
		logger.Printf("%v (see --help)", err)
		return exitUsage
	}
	if cfg.ListIfaces {
		return listInterfaces(stdout, logger)
	}
	filter, err := newFilter(cfg)
	if err == nil {
		err = checkCauses(cfg.Causes)
	}
	if err != nil {
		logger.Print(err)
		return exitUsage
	}
	setZone(cfg.UTC)
	acfg := analyze.Config{IdleTimeout: cfg.IdleTimeout, MaxConns: cfg.MaxConns, Events: cfg.Events || cfg.HTML != ""}
	if cfg.Interface != "" {
		// live: a connection is reported as it ends, once its last ACK is in
		acfg.ClosedLinger = liveLinger
	}
	if !cfg.Events && cfg.HTML != "" {
		// the HTML timelines need packets, not all of them: memory stays
		// bounded (the first and last htmlEvents/2 of each connection)
		acfg.MaxEvents = htmlEvents
	}
	for _, p := range cfg.Ports {
		acfg.Ports = append(acfg.Ports, uint16(p))
	}
	out := &output{cfg: cfg, stderr: stderr, logger: logger}
	out.stdout = &stickyWriter{w: stdout, o: out}
	if cfg.Interface != "" {
		return runLive(ctx, cfg, filter, analyze.NewTracker(acfg), out, time.Now)
	}
	return runOffline(ctx, cfg, stdin, filter, analyze.NewTracker(acfg), out)
}

func listInterfaces(w io.Writer, logger *log.Logger) int {
	ifs, err := capture.Interfaces()
	if err != nil {
		logger.Print(err)
		return exitError
	}
	for i, f := range ifs {
		line := fmt.Sprintf("%d.%s", i+1, f.Name)
		if f.Description != "" {
			line += " (" + f.Description + ")"
		}
		if len(f.Flags) > 0 {
			line += " [" + strings.Join(f.Flags, ", ") + "]"
		}
		if len(f.Addresses) > 0 {
			line += " " + strings.Join(f.Addresses, " ")
		}
		fmt.Fprintln(w, line)
	}
	return exitOK
}

func runOffline(ctx context.Context, cfg Config, stdin io.Reader, filter *filter, tracker *analyze.Tracker, out *output) int {
	progress := newProgress(out.stderr, time.Now)
	out.totals.Files = cfg.Files
	files := inTimeOrder(cfg.Files)
	if !slices.Equal(files, cfg.Files) {
		out.logger.Printf("reading the files in the order of their first packets: %s", strings.Join(files, ", "))
	}
	failed := 0
	remaining := cfg.Count
	for i, name := range files {
		if ctx.Err() != nil {
			failed++
			out.fileError(strings.Join(files[i:], ", "), fmt.Errorf("%w: not read", errInterrupted))
			break
		}
		if progress != nil {
			progress.begin(name)
		}
		res, err := readFile(ctx, name, stdin, filter, tracker, remaining, progress)
		out.totals.Packets += res.packets
		out.totals.Malformed += res.malformed
		if cfg.Count > 0 {
			remaining -= res.packets
		}
		if err != nil {
			failed++
			out.fileError(name, err)
		}
		if cfg.Count > 0 && remaining <= 0 {
			break
		}
	}
	if code := out.final(tracker.Flush()); code != exitOK {
		return code
	}
	switch {
	case failed == len(cfg.Files) && out.totals.Packets == 0:
		return exitError
	case failed > 0:
		return exitPartial
	case out.conns == 0:
		out.logger.Printf("no SSH traffic (%s) in %s%s", filter, strings.Join(cfg.Files, ", "), filter.hint())
		return exitError
	}
	return exitOK
}

type readResult struct {
	packets, malformed int64
}

// segBatch carries decoded segments from the reading goroutine to the
// analysing one. Payloads are copied into arena (the reader's buffer is
// reused for the next packet), at most maxPayloadCopy bytes each: the
// tracker reads payload only for the clear-text handshake, whose segments
// are far smaller.
type segBatch struct {
	segs    []analyze.Segment
	arena   []byte
	packets int64
	err     error
}

const (
	batchSegments  = 512
	liveLinger     = 2 * time.Second // Config.ClosedLinger in live mode
	maxPayloadCopy = 16 << 10
)

// errInterrupted: Ctrl-C or SIGTERM stopped an offline read part way.
var errInterrupted = errors.New("interrupted")

// inTimeOrder sorts capture files by the time of their first packet, so a
// rotation globbed as file1 file10 file2 is read as it was written. Files
// that cannot be read (or stdin) keep their place relative to each other,
// first.
func inTimeOrder(names []string) []string {
	type first struct {
		name string
		at   time.Time
	}
	var fs []first
	for _, n := range names {
		if n == "-" {
			return names // stdin cannot be looked at twice
		}
		fs = append(fs, first{n, firstPacket(n)})
	}
	slices.SortStableFunc(fs, func(a, b first) int { return a.at.Compare(b.at) })
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.name)
	}
	return out
}

// firstPacket is the time of a capture file's first packet (zero if it
// cannot be read).
func firstPacket(name string) time.Time {
	f, err := capture.OpenFile(name, nil)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	_, ci, err := f.ReadPacket()
	if err != nil {
		return time.Time{}
	}
	return ci.Timestamp
}

// readFile feeds one capture file into the tracker. Reading and decoding
// run in a goroutine of their own, analysis in this one, so a second core
// is used when there is one. It returns what was read even when the file
// fails part way.
func readFile(ctx context.Context, name string, stdin io.Reader, filter *filter, t *analyze.Tracker, limit int64, progress *progressLine) (res readResult, err error) {
	f, err := capture.OpenFile(name, stdin)
	if err != nil {
		return res, err
	}
	defer f.Close()
	dec, err := capture.NewDecoder(f.LinkType())
	if err != nil {
		return res, err
	}
	var bpf *capture.Filter
	if filter.expr != "" {
		if bpf, err = capture.CompileFilter(filter.expr, f.LinkType(), 262144); err != nil {
			return res, err
		}
	}
	full := make(chan *segBatch, 4)
	free := make(chan *segBatch, 4)
	for range cap(free) {
		free <- &segBatch{segs: make([]analyze.Segment, 0, batchSegments), arena: make([]byte, 0, 64<<10)}
	}
	r := &batchReader{ctx: ctx, f: f, dec: dec, bpf: bpf, filter: filter, limit: limit, progress: progress}
	go func() {
		defer close(full)
		for {
			b := <-free
			r.fill(b)
			full <- b
			if b.err != nil {
				return
			}
		}
	}()
	for b := range full {
		for i := range b.segs {
			t.Observe(b.segs[i])
		}
		res.packets += b.packets
		memTick()
		if b.err != nil && b.err != io.EOF {
			err = b.err
		}
		free <- b
	}
	res.malformed = dec.Stats.Malformed
	if progress != nil {
		progress.clear()
	}
	return res, err
}

// batchReader reads and decodes a file's packets into batches.
type batchReader struct {
	ctx      context.Context
	f        *capture.File
	dec      *capture.Decoder
	bpf      *capture.Filter
	filter   *filter
	limit    int64 // -c: stop after this many packets (0: no limit)
	progress *progressLine
	total    int64
}

// fill refills b with the next batchSegments segments that pass the
// filters; b.err is io.EOF at the end (or on cancel, or at the -c limit),
// or the read error.
func (r *batchReader) fill(b *segBatch) {
	b.segs, b.arena, b.packets, b.err = b.segs[:0], b.arena[:0], 0, nil
	for len(b.segs) < batchSegments {
		if r.total&1023 == 0 && r.ctx.Err() != nil {
			b.err = fmt.Errorf("%w after packet %d: the rest of the file was not read", errInterrupted, r.total)
			return
		}
		if r.limit > 0 && r.total >= r.limit {
			b.err = io.EOF
			return
		}
		data, ci, err := r.f.ReadPacket()
		if err != nil {
			b.err = err
			return
		}
		r.total++
		b.packets++
		if r.progress != nil && r.total&4095 == 0 {
			r.progress.update(r.f, r.total)
		}
		if r.bpf != nil && !r.bpf.Match(data) {
			continue
		}
		var seg analyze.Segment
		if !r.dec.Decode(data, ci, &seg) {
			continue
		}
		if !r.filter.match(&seg) {
			r.filter.notice(&seg)
			continue
		}
		b.add(seg)
	}
}

// add appends seg, its payload copied into the batch's arena (the reader's
// buffer is reused for the next packet).
func (b *segBatch) add(seg analyze.Segment) {
	if n := min(len(seg.Payload), maxPayloadCopy); n > 0 {
		at := len(b.arena)
		b.arena = append(b.arena, seg.Payload[:n]...)
		seg.Payload = b.arena[at : at+n : at+n]
	} else {
		seg.Payload = nil
	}
	b.segs = append(b.segs, seg)
}

// progressLine shows, on a terminal, how far reading a big file has got.
// It reads the wall clock (for the rate), never the analysis.
type progressLine struct {
	w     io.Writer
	name  string
	now   func() time.Time
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, now func() time.Time) *progressLine {
	if !isTerminal(w) {
		return nil
	}
	return &progressLine{w: w, now: now}
}

func (p *progressLine) begin(name string) {
	p.name, p.start, p.last = name, p.now(), p.now()
}

func (p *progressLine) update(f *capture.File, packets int64) {
	t := p.now()
	if t.Sub(p.last) < time.Second {
		return
	}
	p.last = t
	read, size := f.Progress()
	rate := float64(packets) / t.Sub(p.start).Seconds()
	of := ""
	if size > 0 {
		of = fmt.Sprintf(" %3.0f%% of %s,", 100*float64(read)/float64(size), mib(size))
	}
	fmt.Fprintf(p.w, "\rsshalive: %s:%s %s read, %.2f M packets/s   ", p.name, of, mib(read), rate/1e6)
	p.shown = true
}

func (p *progressLine) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
