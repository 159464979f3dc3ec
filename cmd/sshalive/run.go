package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
	"github.com/sshalive/sshalive/report"
)

// Exit codes (documented in README.md).
const (
	exitOK      = 0
	exitError   = 1 // nothing could be analysed, or no SSH traffic at all
	exitUsage   = 2
	exitPartial = 3 // some input was unreadable or cut short; the rest is reported
)

var version = "dev"

// Config is the parsed command line.
type Config struct {
	Files       []string
	Ports       []int
	JSON        bool
	Events      bool
	Count       int64
	IdleTimeout time.Duration
	MaxConns    int
	Filter      []string // trailing tcpdump-style expression
}

const usageText = `usage: sshalive -r FILE [-r FILE...] [options] [expression]

Tells who keeps each SSH session in a capture alive (SSH-layer and TCP
keepalives), how often, and how the session ended.

`

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	var cfg Config
	fs := pflag.NewFlagSet("sshalive", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SetInterspersed(true)
	fs.StringArrayVarP(&cfg.Files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, gzip; - for stdin); repeatable")
	fs.IntSliceVarP(&cfg.Ports, "port", "p", nil, "SSH server `PORT` (default 22); repeatable")
	fs.BoolVar(&cfg.JSON, "json", false, "write JSON Lines: one record per connection, then a summary record")
	fs.BoolVar(&cfg.Events, "events", false, "print the packet timeline with keepalives labelled")
	fs.Int64VarP(&cfg.Count, "count", "c", 0, "stop after `N` packets")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 3*time.Hour, "forget a connection idle this long (packet time)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 100000, "connections tracked at once; the oldest are summarised early beyond it")
	numeric := fs.CountP("numeric", "n", "accepted for tcpdump habit (-n, -nn); addresses are always numeric")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	_ = numeric
	if *showVersion {
		return cfg, errVersion
	}
	cfg.Filter = fs.Args()
	if len(cfg.Files) == 0 {
		return cfg, errors.New("no input: give -r FILE (or -r - for stdin)")
	}
	for _, p := range cfg.Ports {
		if p < 1 || p > 65535 {
			return cfg, fmt.Errorf("--port %d: not a TCP port (1-65535)", p)
		}
	}
	if cfg.Count < 0 || cfg.MaxConns < 1 || cfg.IdleTimeout <= 0 {
		return cfg, errors.New("-c, --max-conns and --idle-timeout must be positive")
	}
	return cfg, nil
}

var errVersion = errors.New("version")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger := log.New(stderr, "sshalive: ", 0)
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, "sshalive", version)
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case err != nil:
		logger.Printf("%v (see --help)", err)
		return exitUsage
	}
	filter, err := newFilter(cfg)
	if err != nil {
		logger.Print(err)
		return exitUsage
	}
	acfg := analyze.Config{IdleTimeout: cfg.IdleTimeout, MaxConns: cfg.MaxConns, Events: cfg.Events}
	for _, p := range cfg.Ports {
		acfg.Ports = append(acfg.Ports, uint16(p))
	}
	tracker := analyze.NewTracker(acfg)
	totals := report.Totals{Files: cfg.Files}
	failed := 0
	var remaining = cfg.Count
	for _, name := range cfg.Files {
		if ctx.Err() != nil {
			break
		}
		res, err := readFile(ctx, name, stdin, filter, tracker, remaining)
		totals.Packets += res.packets
		totals.Malformed += res.malformed
		if cfg.Count > 0 {
			remaining -= res.packets
		}
		if err != nil {
			failed++
			if errors.Is(err, capture.ErrTruncated) {
				totals.Truncated = true
			}
			msg := fmt.Sprintf("%s: %v", name, err)
			totals.Errors = append(totals.Errors, msg)
			logger.Print(msg)
		}
		if cfg.Count > 0 && remaining <= 0 {
			break
		}
	}
	summary := tracker.Flush()
	if totals.Malformed > 0 {
		logger.Printf("%d packets could not be decoded (malformed or cut short)", totals.Malformed)
	}
	var werr error
	switch {
	case cfg.JSON:
		werr = report.JSON(stdout, summary, totals)
	case cfg.Events:
		werr = report.Events(stdout, summary)
		if werr == nil {
			fmt.Fprintln(stdout)
			werr = report.Table(stdout, summary)
		}
	default:
		werr = report.Table(stdout, summary)
	}
	if werr != nil {
		logger.Printf("write: %v", werr)
		return exitError
	}
	switch {
	case failed == len(cfg.Files) && totals.Packets == 0:
		return exitError
	case failed > 0:
		return exitPartial
	case len(summary.Conns) == 0:
		logger.Printf("no SSH traffic (%s) in %s%s", filter, strings.Join(cfg.Files, ", "), filter.hint())
		return exitError
	}
	return exitOK
}

type readResult struct {
	packets, malformed int64
}

// readFile feeds one capture file through the decoder into the tracker. It
// returns what was read even when it fails part way.
func readFile(ctx context.Context, name string, stdin io.Reader, filter *filter, t *analyze.Tracker, limit int64) (readResult, error) {
	var res readResult
	f, err := capture.OpenFile(name, stdin)
	if err != nil {
		return res, err
	}
	defer f.Close()
	dec, err := capture.NewDecoder(f.LinkType())
	if err != nil {
		return res, err
	}
	defer func() { res.malformed = dec.Stats.Malformed }()
	var bpf *capture.Filter
	if filter.expr != "" {
		if bpf, err = capture.CompileFilter(filter.expr, f.LinkType(), 262144); err != nil {
			return res, err
		}
	}
	var seg analyze.Segment
	for {
		if res.packets&1023 == 0 && ctx.Err() != nil {
			return res, nil
		}
		if limit > 0 && res.packets >= limit {
			return res, nil
		}
		data, ci, err := f.ReadPacket()
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.packets++
		if bpf != nil && !bpf.Match(data) {
			continue
		}
		if !dec.Decode(data, ci, &seg) {
			continue
		}
		if !filter.match(&seg) {
			filter.notice(&seg)
			continue
		}
		t.Observe(seg)
	}
}
