package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// What the completion scripts offer for a flag's value. It is kept as a
// pflag annotation on the flag itself, so the man page and the completions
// are generated from the flag set alone (docs.go, completion.go).
const (
	annotComplete   = "sshalive-complete"
	completeFile    = "file"
	completeIface   = "interface"
	completeUser    = "user"
	generateFlag    = "generate"
	generateChoices = "man, bash, zsh, fish"
)

// newFlagSet defines every command-line flag, filling cfg when parsed.
// --help goes to stdout (sshalive --help | less); parse errors are
// returned, for run to say in one line on stderr.
func newFlagSet(cfg *Config, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("sshalive", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.SetInterspersed(true)
	fs.SortFlags = false
	fs.StringArrayVarP(&cfg.Files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, gzip; - for stdin); repeatable")
	fs.StringVarP(&cfg.Interface, "interface", "i", "", "capture live on `IFACE` (any = all interfaces)")
	fs.BoolVarP(&cfg.ListIfaces, "list-interfaces", "D", false, "list the interfaces live capture can use")
	fs.VarP(portList{&cfg.Ports}, "port", "p", "SSH server `PORT` (default 22); repeatable")
	fs.BoolVar(&cfg.JSON, "json", false, "write JSON Lines: one record per connection, then a summary record")
	fs.BoolVar(&cfg.Events, "events", false, "print the packet timeline with keepalives labelled")
	fs.StringVar(&cfg.HTML, "html", "", "also write a self-contained HTML report (timelines, end, risk) to `FILE` (- for stdout, instead of the text report)")
	fs.Int64VarP(&cfg.Count, "count", "c", 0, "stop after `N` packets")
	fs.DurationVar(&cfg.Duration, "duration", 0, "live: stop after this long (e.g. 10m)")
	fs.DurationVar(&cfg.Interval, "interval", 0, "live: print an interim report this often (SIGUSR1 prints one on demand)")
	fs.IntVarP(&cfg.Snaplen, "snapshot-length", "s", 2048, "live: bytes kept per packet; the handshake needs ~2 KB for exact sizes")
	fs.IntVarP(&cfg.BufferKiB, "buffer-size", "B", 0, "live: kernel capture ring in `KiB` (8 MiB when 0)")
	fs.IntVar(&cfg.Fanout, "fanout", 0, "live: read the interface with `N` sockets in one AF_PACKET fanout group, each analysed on a core of its own (0: one per core, at most 8; 1 with -w)")
	fs.BoolVar(&cfg.Promisc, "promisc", false, "live: put the interface in promiscuous mode")
	fs.Bool("no-promiscuous-mode", false, "accepted for tcpdump habit (tcpdump -p): promiscuous mode is off unless --promisc")
	fs.StringVarP(&cfg.WriteFile, "write", "w", "", "live: also save the packets analysed to this pcap `FILE`")
	fs.BoolVarP(&cfg.PacketBuffered, "packet-buffered", "U", false, "live: write each packet to the -w file as it arrives (default: every second)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-listen", "", "live: serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9273)")
	fs.StringVarP(&cfg.User, "relinquish-privileges", "Z", "", "live: switch to `USER` after opening the interface and the outputs")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 3*time.Hour, "forget a connection idle this long (packet time)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 100000, "connections tracked at once; the oldest are summarised early beyond it")
	fs.BoolVar(&cfg.All, "all", false, "full detail of every connection (with more than 5, by default only of those that need attention)")
	fs.StringSliceVar(&cfg.Causes, "cause", nil, "only connections that ended of `CAUSE` (keepalive-timeout, idle-drop, open, ...); repeatable or comma list")
	fs.BoolVar(&cfg.UTC, "utc", false, "show times in UTC (default: local time with its zone, as tcpdump)")
	fs.BoolP("numeric", "n", false, "accepted for tcpdump habit (-n, -nn); addresses are always numeric")
	fs.BoolVar(&cfg.ShowVersion, "version", false, "print the version and exit")
	// for make release: the man page and completions come from this flag set
	fs.StringVar(&cfg.Generate, generateFlag, "", "write the man page or a completion script (`KIND`: "+generateChoices+") to stdout")
	mustFlag(fs.MarkHidden(generateFlag))
	for kind, names := range map[string][]string{
		completeFile:  {"read", "write", "html"},
		completeIface: {"interface"},
		completeUser:  {"relinquish-privileges"},
	} {
		for _, name := range names {
			mustFlag(fs.SetAnnotation(name, annotComplete, []string{kind}))
		}
	}
	fs.Usage = func() {
		fmt.Fprint(stdout, usageText)
		fs.PrintDefaults()
	}
	return fs
}

// mustFlag panics on an error that only a misspelt flag name in
// newFlagSet can cause (every test that parses flags would show it).
func mustFlag(err error) {
	if err != nil {
		panic(err)
	}
}

// flagError says a flag's bad value in the user's words: pflag's number
// flags name the Go parser ("strconv.ParseInt: parsing "x": invalid
// syntax").
func flagError(err error) error {
	if errors.Is(err, pflag.ErrHelp) {
		return err
	}
	msg := err.Error()
	if i := strings.Index(msg, ": strconv."); i >= 0 {
		msg = msg[:i] + ": not a number"
	}
	return errors.New(msg)
}

// portList is --port's value: ports, repeatable or comma-separated. A
// value that is no number says what sshalive's -p is, for tcpdump hands
// (there -p is "no promiscuous mode", which takes no value).
type portList struct{ ports *[]int }

func (p portList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a number (sshalive's -p is the SSH server port; tcpdump's -p, no promiscuous mode, is already the default here: --no-promiscuous-mode is accepted)")
		}
		*p.ports = append(*p.ports, n)
	}
	return nil
}

func (p portList) String() string {
	if p.ports == nil {
		return ""
	}
	out := make([]string, len(*p.ports))
	for i, n := range *p.ports {
		out[i] = strconv.Itoa(n)
	}
	return strings.Join(out, ",")
}

// Type ends in "Slice": the man page and completions call it repeatable.
func (p portList) Type() string { return "portSlice" }

// allFiles reports whether every argument names an existing file (not an
// expression that happens to be left over).
func allFiles(args []string) bool {
	for _, a := range args {
		if st, err := os.Stat(a); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return len(args) > 0
}

// modeConflict refuses outputs that would share stdout or ask for what the
// other leaves out.
func modeConflict(cfg Config) error {
	switch {
	case cfg.JSON && cfg.Events:
		return errors.New("--json and --events exclude each other: --events prints the text timeline; JSON records carry none (--html draws one)")
	case cfg.HTML == "-" && (cfg.JSON || cfg.Events || cfg.Interval > 0):
		return errors.New("--html - writes the HTML report to stdout: it excludes --json, --events and --interval, which write there too")
	}
	return nil
}
