package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"runtime"
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
	// Fanout is the number of sockets live capture reads (0: one per core,
	// at most maxFanout; 1 with -w).
	Fanout    int
	Promisc   bool
	WriteFile string
	// PacketBuffered flushes the -w file after every packet (-U).
	PacketBuffered bool
	MetricsAddr    string
	User           string
	IdleTimeout    time.Duration
	MaxConns       int
	Filter         []string // trailing tcpdump-style expression
	ShowVersion    bool     // --version
	Generate       string   // --generate KIND (hidden): man page or completion script
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

func parseFlags(args []string, stdout io.Writer) (Config, error) {
	var cfg Config
	fs := newFlagSet(&cfg, stdout)
	if err := fs.Parse(args); err != nil {
		return cfg, flagError(err)
	}
	if cfg.ShowVersion {
		return cfg, errVersion
	}
	if cfg.Generate != "" {
		return cfg, errGenerate
	}
	cfg.Filter = fs.Args()
	if err := resolveInputs(&cfg); err != nil || cfg.ListIfaces {
		return cfg, err
	}
	return cfg, validate(cfg)
}

// resolveInputs decides what to read: -r files (and the files a shell
// glob after -r gave as arguments), or -i.
func resolveInputs(cfg *Config) error {
	if len(cfg.Files) > 0 && allFiles(cfg.Filter) {
		// -r t*.pcap: the shell gave the other files as arguments
		cfg.Files, cfg.Filter = append(cfg.Files, cfg.Filter...), nil
	}
	switch {
	case cfg.ListIfaces:
		return nil
	case len(cfg.Files) == 0 && cfg.Interface == "" && allFiles(cfg.Filter):
		return fmt.Errorf("no input: %s is a file: read it with -r (sshalive -r %s)", cfg.Filter[0], strings.Join(cfg.Filter, " -r "))
	case len(cfg.Files) == 0 && cfg.Interface == "":
		return errors.New("no input: give -r FILE (or -r - for stdin), or -i IFACE")
	case len(cfg.Files) > 0 && cfg.Interface != "":
		return errors.New("-r and -i exclude each other")
	}
	return nil
}

// validate checks the values and combinations of the flags.
func validate(cfg Config) error {
	if err := modeConflict(cfg); err != nil {
		return err
	}
	for _, p := range cfg.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("--port %d: not a TCP port (1-65535)", p)
		}
	}
	if cfg.Count < 0 || cfg.MaxConns < 1 || cfg.IdleTimeout <= 0 || cfg.Duration < 0 || cfg.Interval < 0 || cfg.BufferKiB < 0 || cfg.Fanout < 0 {
		return errors.New("-c, --duration, --interval, -B, --fanout, --max-conns and --idle-timeout must not be negative")
	}
	if cfg.Fanout > 1 && cfg.WriteFile != "" {
		return fmt.Errorf("--fanout %d with -w: the saved file is written in capture order by one socket (--fanout 1, the default with -w)", cfg.Fanout)
	}
	if cfg.Fanout > 64 {
		return fmt.Errorf("--fanout %d: at most 64 sockets", cfg.Fanout)
	}
	if cfg.Fanout > 1 && cfg.Interface != "" && !capture.SymmetricFanout() {
		return fmt.Errorf("--fanout %d: this kernel's fanout hash may send a connection's two directions to different sockets (symmetric since Linux 4.7): use --fanout 1", cfg.Fanout)
	}
	if cfg.Snaplen < 96 || cfg.Snaplen > 262144 {
		return fmt.Errorf("-s %d: between 96 and 262144 bytes", cfg.Snaplen)
	}
	if cfg.Interface == "" {
		for name, set := range map[string]bool{"--duration": cfg.Duration > 0, "--interval": cfg.Interval > 0, "-w": cfg.WriteFile != "", "-U": cfg.PacketBuffered,
			"--metrics-listen": cfg.MetricsAddr != "", "-Z": cfg.User != "", "-B": cfg.BufferKiB > 0, "--fanout": cfg.Fanout > 0} {
			if set {
				return fmt.Errorf("%s needs live capture (-i IFACE)", name)
			}
		}
	}
	return nil
}

// errVersion and errGenerate: --version and --generate, which need no input.
var (
	errVersion  = errors.New("version")
	errGenerate = errors.New("generate")
)

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger := log.New(stderr, "sshalive: ", 0)
	cfg, err := parseFlags(args, stdout)
	switch {
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, "sshalive", versionString())
		return exitOK
	case errors.Is(err, errGenerate):
		if err := generate(stdout, cfg.Generate); err != nil {
			logger.Printf("%v (see --help)", err)
			return exitUsage
		}
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
	out.sticky = &stickyWriter{w: stdout, o: out}
	out.stdout = out.sticky
	if cfg.Interface != "" {
		return runLive(ctx, cfg, filter, analyze.NewShards(acfg, sockets(cfg)), out, time.Now)
	}
	return runOffline(ctx, cfg, stdin, filter, analyze.NewShards(acfg, runtime.GOMAXPROCS(0)), out)
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

func runOffline(ctx context.Context, cfg Config, stdin io.Reader, filter *filter, shards *analyze.Shards, out *output) int {
	progress := newProgress(out.stderr, time.Now)
	out.totals.Files = cfg.Files
	groups := plan(cfg.Files)
	var order []string
	for _, g := range groups {
		for _, f := range g {
			order = append(order, f.name)
		}
	}
	if !slices.Equal(order, cfg.Files) {
		out.logger.Printf("reading the files in the order of their first packets: %s", strings.Join(order, ", "))
	}
	failed := 0
	remaining := cfg.Count
	read := 0 // files done
	for _, g := range groups {
		if ctx.Err() != nil {
			failed++
			out.fileError(strings.Join(order[read:], ", "), fmt.Errorf("%w: not read", errInterrupted))
			break
		}
		if progress != nil {
			progress.begin(g[0].name)
		}
		var res readResult
		var errs []fileErr
		if len(g) == 1 {
			var err error
			if res, err = readFile(ctx, g[0].name, stdin, filter, shards, remaining, progress); err != nil {
				errs = []fileErr{{g[0].name, err}}
			}
		} else {
			out.logger.Print(describe(g))
			res, errs = readMerged(ctx, g, filter, shards, remaining, progress)
		}
		read += len(g)
		out.totals.Packets += res.packets
		out.totals.Malformed += res.malformed
		if cfg.Count > 0 {
			remaining -= res.packets
		}
		for _, e := range errs {
			failed++
			out.fileError(e.name, e.err)
		}
		if cfg.Count > 0 && remaining <= 0 {
			break
		}
	}
	if code := out.final(shards.Flush()); code != exitOK {
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

const (
	batchSegments = 512             // live: segments between looks at memory
	liveLinger    = 2 * time.Second // Config.ClosedLinger in live mode
)

// maxFanout bounds the sockets a live capture opens by default: past 8 the
// analysis is rarely what limits a capture filtered to SSH.
const maxFanout = 8

// sockets is the number of sockets (and Trackers) of a live capture.
func sockets(cfg Config) int {
	switch {
	case cfg.Fanout > 0:
		return cfg.Fanout
	case cfg.WriteFile != "" || !capture.SymmetricFanout():
		return 1
	}
	return min(runtime.GOMAXPROCS(0), maxFanout)
}

// errInterrupted: Ctrl-C or SIGTERM stopped an offline read part way.
var errInterrupted = errors.New("interrupted")

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

func (p *progressLine) update(read, size, packets int64) {
	t := p.now()
	if t.Sub(p.last) < time.Second {
		return
	}
	p.last = t
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
