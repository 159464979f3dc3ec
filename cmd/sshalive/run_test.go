package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
	"github.com/sshalive/sshalive/internal/agree"
	"github.com/sshalive/sshalive/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const pcapDir = "../../testdata/pcaps"

// manifest mirrors testdata/pcaps/manifest.json (written by make captures).
type manifest struct {
	Version  int `json:"version"`
	Captures []struct {
		File        string             `json:"file"`
		Scenario    string             `json:"scenario"`
		Synthetic   bool               `json:"synthetic"`
		Format      string             `json:"format"`
		LinkType    int                `json:"link_type"`
		Packets     int64              `json:"packets"`
		TCPPackets  int64              `json:"tcp_packets"`
		Made        struct{ Port int } `json:"made"`
		Connections []struct {
			Client          string       `json:"client"`
			Server          string       `json:"server"`
			Packets         int          `json:"packets"`
			Handshake       bool         `json:"handshake"`
			Evidence        []string     `json:"evidence"`
			SSHKeepalives   []manifestKA `json:"ssh_keepalives"`
			TCPKeepalives   []manifestKA `json:"tcp_keepalives"`
			Implementations map[string]struct {
				Name, Version, Banner string
			} `json:"implementations"`
			End struct {
				How string `json:"how"`
				By  string `json:"by"`
			} `json:"end"`
			Cause         string `json:"cause"`
			CauseEvidence string `json:"cause_evidence"`
		} `json:"connections"`
	} `json:"captures"`
}

type manifestKA struct {
	Sender   string    `json:"sender"`
	ProbeAtS []float64 `json:"probe_at_s"`
	Message  string    `json:"message"`
	Setting  *struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	} `json:"setting"`
	Probes       int  `json:"probes"`
	ProbesOnWire *int `json:"probes_on_wire"`
	onWireOnly   bool
	Answered     int `json:"answered"`
	ProbeBytes   int `json:"probe_bytes"`
	ReplyBytes   int `json:"reply_bytes"`
	Interval     *struct {
		Median float64 `json:"median"`
	} `json:"interval_s"`
}

func loadManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pcapDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(m.Captures) == 0 {
		t.Fatal("manifest.json lists no captures")
	}
	return m
}

// sshalive runs the command as a user would and returns stdout and the exit code.
func sshalive(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// TestManifestCaptures checks that every capture in the manifest exists,
// parses, and has the packet count, link type and endpoints it lists.
func TestManifestCaptures(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Captures {
		t.Run(c.File, func(t *testing.T) {
			f, err := capture.OpenFile(filepath.Join(pcapDir, c.File), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := int(f.LinkType()); got != c.LinkType {
				t.Errorf("link type %d, manifest %d", got, c.LinkType)
			}
			if !strings.HasPrefix(f.Format(), c.Format) {
				t.Errorf("format %s, manifest %s", f.Format(), c.Format)
			}
			dec, err := capture.NewDecoder(f.LinkType())
			if err != nil {
				t.Fatal(err)
			}
			ports := []uint16{22}
			if c.Made.Port != 0 {
				ports = []uint16{uint16(c.Made.Port)}
			}
			tr := analyze.NewTracker(analyze.Config{Ports: ports})
			var seg analyze.Segment
			var n int64
			for {
				data, ci, err := f.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d packets: %v", n, err)
				}
				n++
				if dec.Decode(data, ci, &seg) {
					tr.Observe(seg)
				}
			}
			if n != c.Packets {
				t.Errorf("%d packets, manifest %d", n, c.Packets)
			}
			if dec.Stats.TCP != c.TCPPackets {
				t.Errorf("%d TCP packets, manifest %d", dec.Stats.TCP, c.TCPPackets)
			}
			var got, want []string
			for _, conn := range tr.Flush().Conns {
				got = append(got, fmt.Sprintf("%s>%s/%d", conn.Client, conn.Server, conn.Packets))
			}
			for _, conn := range c.Connections {
				want = append(want, fmt.Sprintf("%s>%s/%d", conn.Client, conn.Server, conn.Packets))
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("connections\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestManifestTruth checks that sshalive finds the truth the manifest
// records from the wire and the endpoints' logs: exact probe counts, sizes
// and senders, intervals within 2 %, and how each connection ended.
func TestManifestTruth(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Captures {
		t.Run(c.File, func(t *testing.T) {
			args := []string{"--json", "-r", filepath.Join(pcapDir, c.File)}
			if c.Made.Port != 0 && c.Made.Port != 22 {
				args = append(args, "-p", fmt.Sprint(c.Made.Port))
			}
			out, stderr, code := sshalive(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// connections by 4-tuple, in order: a port used again opens a
			// second connection on the same 4-tuple
			conns := map[string][]report.JSONConn{}
			for _, j := range connRecords(t, out) {
				conns[j.Client+">"+j.Server] = append(conns[j.Client+">"+j.Server], j)
			}
			for _, want := range c.Connections {
				k := want.Client + ">" + want.Server
				if len(conns[k]) == 0 {
					t.Errorf("connection %s > %s not found", want.Client, want.Server)
					continue
				}
				got := conns[k][0]
				conns[k] = conns[k][1:]
				compareKA(t, "SSH", want.SSHKeepalives, got.SSHKeepalives, ambiguous(want.Evidence))
				compareKA(t, "TCP", want.TCPKeepalives, got.TCPKeepalives, 0)
				compareImpl(t, want.Implementations, got)
				for _, d := range agree.Check(got) {
					t.Errorf("%s > %s disagrees with itself: %s", want.Client, want.Server, d)
				}
				compareSettings(t, want.SSHKeepalives, got)
				if got.End.How != want.End.How || got.End.By != want.End.By {
					t.Errorf("end %s by %q, manifest %s by %q", got.End.How, got.End.By, want.End.How, want.End.By)
				}
				// "server-ended" says the wire cannot tell which of the two it was
				unsure := got.End.Cause == "server-ended" && (want.Cause == "command-ended" || want.Cause == "idle-logout")
				if want.Cause != "" && got.End.Cause != want.Cause && !unsure {
					t.Errorf("end cause %s, manifest %s (%s)", got.End.Cause, want.Cause, want.CauseEvidence)
				}
			}
		})
	}
}

// connRecords decodes the connection records of --json output and checks
// that exactly one summary record ends it.
func connRecords(t *testing.T, out string) []report.JSONConn {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var conns []report.JSONConn
	for i, line := range lines {
		var typ struct{ Type string }
		if err := json.Unmarshal([]byte(line), &typ); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		switch {
		case typ.Type == "connection":
			var j report.JSONConn
			if err := json.Unmarshal([]byte(line), &j); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			conns = append(conns, j)
		case typ.Type == "summary" && i == len(lines)-1:
			var s report.JSONSummary
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				t.Fatal(err)
			}
			if s.Connections != len(conns) || s.Version != report.Version {
				t.Errorf("summary %+v after %d connections", s, len(conns))
			}
		default:
			t.Fatalf("line %d: unexpected record %q", i+1, typ.Type)
		}
	}
	return conns
}

// bySenderOnWire folds the manifest's entries into one per sender, as
// sshalive reports them: probes that reached the wire (the manifest also
// counts those the endpoint's log shows queued behind a dead path, which no
// capture can see), and a probe that shared its segment with other data
// (listed apart by its segment size), or a first probe compression could
// not shrink, counted with the rest. The probe's own size is the smallest
// segment holding one; the interval is the median spacing of all of them.
func bySenderOnWire(entries []manifestKA) []manifestKA {
	var out []manifestKA
	idx := map[string]int{}
	times := map[string][]float64{}
	for _, e := range entries {
		e.onWireOnly = true
		if e.ProbesOnWire != nil {
			e.onWireOnly = *e.ProbesOnWire == e.Probes
			e.Probes = *e.ProbesOnWire
		}
		times[e.Sender] = append(times[e.Sender], e.ProbeAtS...)
		i, ok := idx[e.Sender]
		if !ok {
			idx[e.Sender] = len(out)
			out = append(out, e)
			continue
		}
		main := &out[i]
		e.Probes, e.Answered = e.Probes+main.Probes, e.Answered+main.Answered
		e.onWireOnly = e.onWireOnly && main.onWireOnly
		if e.ProbeBytes < main.ProbeBytes {
			*main = e
		} else {
			main.Probes, main.Answered, main.onWireOnly = e.Probes, e.Answered, e.onWireOnly
		}
		main.Interval = medianSpacing(times[e.Sender])
	}
	return out
}

// medianSpacing is the median spacing of probe times (in any order), as
// the manifest's interval_s holds it.
func medianSpacing(at []float64) *struct {
	Median float64 `json:"median"`
} {
	if len(at) < 2 {
		return nil
	}
	at = slices.Clone(at)
	slices.Sort(at)
	var gaps []float64
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i]-at[i-1])
	}
	slices.Sort(gaps)
	m := gaps[len(gaps)/2]
	if len(gaps)%2 == 0 {
		m = (gaps[len(gaps)/2-1] + m) / 2
	}
	return &struct {
		Median float64 `json:"median"`
	}{m}
}

// ambiguous is how many probe/reply segments the lab tied to a logged
// keepalive only by elimination (several segments fit the log line's time;
// the reply shared a segment with session-setup data): a wire-only analysis
// may leave those out, and only those.
func ambiguous(evidence []string) int {
	for _, e := range evidence {
		var n int
		if _, err := fmt.Sscanf(e, "lab: %d probe/reply segment(s) chosen among several candidates", &n); err == nil {
			return n
		}
	}
	return 0
}

func compareKA(t *testing.T, layer string, want []manifestKA, got []report.JSONKeepalives, slack int) {
	t.Helper()
	want = bySenderOnWire(want)
	bySender := map[string]report.JSONKeepalives{}
	for _, g := range got {
		if _, dup := bySender[g.Sender]; dup {
			t.Errorf("%s: two entries for %s", layer, g.Sender)
		}
		bySender[g.Sender] = g
	}
	if len(got) != len(want) {
		t.Errorf("%s keepalives: got %d senders %+v, manifest %d %+v", layer, len(got), got, len(want), want)
	}
	for _, w := range want {
		g, ok := bySender[w.Sender]
		if !ok {
			t.Errorf("%s: no keepalives from %s, manifest has %d", layer, w.Sender, w.Probes)
			continue
		}
		within := func(g, w int) bool { return g <= w && g >= w-slack }
		// under compression replies alternate in size (28 and 36 B for the
		// same REQUEST_FAILURE): only the probe's repeated size is stable
		replyOK := w.Answered == 0 || g.ReplyBytes == w.ReplyBytes || g.Detection == "compressed"
		if !within(g.Probes, w.Probes) || !within(g.Answered, w.Answered) || g.ProbeBytes != w.ProbeBytes || !replyOK {
			t.Errorf("%s from %s: probes %d answered %d sizes %d/%d; manifest %d %d %d/%d", layer, w.Sender,
				g.Probes, g.Answered, g.ProbeBytes, g.ReplyBytes, w.Probes, w.Answered, w.ProbeBytes, w.ReplyBytes)
		}
		// The manifest's interval covers every probe the endpoint logged;
		// compare it only where all of them reached the wire.
		if w.Interval != nil && w.onWireOnly {
			if g.Interval == nil {
				t.Errorf("%s from %s: no interval, manifest %.3f s", layer, w.Sender, w.Interval.Median)
			} else if math.Abs(g.Interval.Median-w.Interval.Median) > 0.02*w.Interval.Median {
				t.Errorf("%s from %s: interval %.3f s, manifest %.3f s (±2%%)", layer, w.Sender, g.Interval.Median, w.Interval.Median)
			}
		}
	}
}

// compareImpl checks the implementations read off the banners against
// those the lab ran (a version only where the banner carries one: Go's
// says "SSH-2.0-Go").
func compareImpl(t *testing.T, want map[string]struct{ Name, Version, Banner string }, got report.JSONConn) {
	t.Helper()
	for side, w := range want {
		g := got.ClientImplementation
		if side == "server" {
			g = got.ServerImplementation
		}
		switch {
		case g == nil && banner(got, side) == "":
			// the banner is not in the capture (it began mid-connection,
			// or the snaplen cut it): nothing to read it from
		case g == nil:
			t.Errorf("%s implementation not found, manifest %s %s", side, w.Name, w.Version)
		case g.Name != w.Name || strings.Contains(w.Banner, w.Version) && g.Version != w.Version:
			t.Errorf("%s implementation %s %s, manifest %s %s", side, g.Name, g.Version, w.Name, w.Version)
		}
	}
}

func banner(c report.JSONConn, side string) string {
	if side == "server" {
		return c.ServerBanner
	}
	return c.ClientBanner
}

// compareSettings checks that the setting the lab configured for each
// sender's keepalives is the one inferred, by the implementation's name for
// it, and that the message is the one the endpoint logged (where the sizes
// can tell: not under compression).
func compareSettings(t *testing.T, want []manifestKA, got report.JSONConn) {
	t.Helper()
	for _, w := range want {
		if w.Setting != nil {
			found := false
			for _, s := range got.Inferred.Settings {
				found = found || s.Side == w.Sender && s.Name == w.Setting.Name && s.Value == w.Setting.Value
			}
			if !found {
				t.Errorf("setting %s %d of the %s not inferred: %+v", w.Setting.Name, w.Setting.Value, w.Sender, got.Inferred.Settings)
			}
		}
		for _, g := range got.SSHKeepalives {
			// "unknown" where the sizes of two messages coincide (aes-ctr +
			// hmac-sha2-256: global and channel request are both 80 bytes)
			unsure := g.Message == "unknown" && g.Kind == "ssh"
			if w.Message != "" && g.Sender == w.Sender && g.Detection == "handshake" && g.Message != w.Message && !unsure {
				t.Errorf("%s keepalive message %s, manifest %s", w.Sender, g.Message, w.Message)
			}
		}
	}
}

// TestGolden pins the table and JSON output for every bundled capture.
// Regenerate with: go test ./cmd/sshalive -run TestGolden -update
func TestGolden(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Captures {
		for _, mode := range []string{"table", "json"} {
			t.Run(c.File+"/"+mode, func(t *testing.T) {
				args := []string{"-r", filepath.Join(pcapDir, c.File)}
				if c.Made.Port != 0 && c.Made.Port != 22 {
					args = append(args, "-p", fmt.Sprint(c.Made.Port))
				}
				if mode == "json" {
					args = append(args, "--json")
				}
				out, _, _ := sshalive(t, args...)
				checkGolden(t, c.File+"."+mode, out)
			})
		}
	}
}

// TestPublicCaptures runs the Zeek project's real-world SSH traces: every
// one must be read without error, and none has a keepalive a person reading
// the trace would see.
func TestPublicCaptures(t *testing.T) {
	files, err := filepath.Glob("../../testdata/public/*.pcap")
	if err != nil || len(files) < 12 {
		t.Fatalf("expected the 12 public captures in testdata/public, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, stderr, code := sshalive(t, "--json", "-r", f, "-p", "22", "-p", "80", "-p", "2299")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, j := range connRecords(t, out) {
				if len(j.SSHKeepalives)+len(j.TCPKeepalives) > 0 {
					t.Errorf("%s > %s: invented keepalives %+v %+v", j.Client, j.Server, j.SSHKeepalives, j.TCPKeepalives)
				}
			}
		})
	}
}

// TestBadInput: each bad input gets one line on stderr naming the file and
// the problem, and the documented exit code.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(pcapDir, "seed-serveralive.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	linkType := bytes.Clone(good[:24])
	linkType[20] = 147 // LINKTYPE_USER0
	tests := []struct {
		name    string
		args    []string
		code    int
		errPart string
	}{
		{"empty", []string{"-r", write("empty.pcap", nil)}, exitError, "empty file"},
		{"not a capture", []string{"-r", write("text.pcap", []byte("hello, world\n"))}, exitError, "not a pcap or pcapng file"},
		{"missing", []string{"-r", filepath.Join(dir, "nope.pcap")}, exitError, "no such file"},
		{"header cut", []string{"-r", write("hdr.pcap", good[:10])}, exitError, "header"},
		{"truncated", []string{"-r", write("cut.pcap", good[:len(good)-30])}, exitPartial, "truncated"},
		{"link type", []string{"-r", write("lt.pcap", linkType)}, exitError, "unsupported link type"},
		{"no input", nil, exitUsage, "no input"},
		{"bad port", []string{"-r", "x", "-p", "70000"}, exitUsage, "not a TCP port"},
		{"bad flag", []string{"--nope"}, exitUsage, "unknown flag"},
		{"no ssh", []string{"-r", filepath.Join(pcapDir, "seed-serveralive.pcap"), "-p", "2222"}, exitError, "no SSH traffic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := sshalive(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.errPart) {
				t.Errorf("stderr %q lacks %q", stderr, tt.errPart)
			}
			if tt.name == "truncated" && !strings.Contains(out, "sends SSH keepalives") {
				t.Errorf("a truncated file must still report what was read before the cut:\n%s", out)
			}
		})
	}
}

// afterRun, when set (hostile_test.go, Linux), runs after sshalive's run
// in a process of its own: it writes the process's peak resident size.
var afterRun func()

func TestMain(m *testing.M) {
	// The live tests start this binary as sshalive in a namespace.
	if os.Getenv("SSHALIVE_RUN_MAIN") == "1" {
		code := runMain()
		if afterRun != nil {
			afterRun()
		}
		os.Exit(code)
	}
	flag.Parse()
	// The goldens are in UTC and UTF-8 whatever the machine's zone and
	// locale (TestLocalTime and TestASCII set their own).
	localZone = func() *time.Location { return time.UTC }
	getenv = func(k string) string {
		if k == "LC_ALL" {
			return "C.UTF-8"
		}
		return os.Getenv(k)
	}
	if _, err := os.Stat(pcapDir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "testdata/pcaps missing")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestInputs: stdin, gzip and several files give the answer the plain file
// gives.
func TestInputs(t *testing.T) {
	seed := filepath.Join(pcapDir, "seed-serveralive.pcap")
	plain, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	gzPath := filepath.Join(t.TempDir(), "seed.pcap.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)

	want, _, _ := sshalive(t, "-r", seed)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-r", "-"}, bytes.NewReader(gz.Bytes()), &out, &errb); code != exitOK || out.String() != want {
		t.Errorf("gzip on stdin: exit %d %s\n%s", code, errb.String(), out.String())
	}
	if got, _, code := sshalive(t, "-r", gzPath); code != exitOK || got != want {
		t.Errorf("gzip file: exit %d\n%s", code, got)
	}
	// Two files: connections of both, one summary.
	got, _, code := sshalive(t, "--json", "-r", seed, "-r", filepath.Join(pcapDir, "seed-clientalive.pcap"))
	conns := connRecords(t, got)
	if code != exitOK || len(conns) != 2 || conns[0].SSHKeepalives[0].Sender != "client" || conns[1].SSHKeepalives[0].Sender != "server" {
		t.Errorf("two files: exit %d\n%s", code, got)
	}
	// A rotation given out of order (file2 before file1) is read in the
	// order of the files' first packets, and stderr says so.
	first, second := splitCapture(t, filepath.Join(pcapDir, "serveralive-chacha.pcap"))
	inOrder, _, _ := sshalive(t, "--json", "-r", first, "-r", second)
	reversed, stderr, code := sshalive(t, "--json", "-r", second, "-r", first)
	if code != exitOK || !strings.Contains(stderr, "in the order of their first packets") {
		t.Errorf("files out of order: exit %d, stderr %q", code, stderr)
	}
	if a, b := connRecords(t, inOrder), connRecords(t, reversed); len(a) != 1 || len(b) != 1 || a[0].SSHKeepalives[0].Probes != b[0].SSHKeepalives[0].Probes || a[0].End.Cause != b[0].End.Cause {
		t.Errorf("out of order:\n%s\nin order:\n%s", reversed, inOrder)
	}
}

// splitCapture writes a pcap's first and second halves to two files, as
// tcpdump -C rotates a capture.
func splitCapture(t *testing.T, path string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr, recs := b[:24], b[24:]
	var offs []int
	for o := 0; o+16 <= len(recs); {
		offs = append(offs, o)
		o += 16 + int(binary.LittleEndian.Uint32(recs[o+8:]))
	}
	mid := offs[len(offs)/2]
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "rot1.pcap"), filepath.Join(dir, "rot2.pcap")
	os.WriteFile(p1, append(slices.Clone(hdr), recs[:mid]...), 0o644)
	os.WriteFile(p2, append(slices.Clone(hdr), recs[mid:]...), 0o644)
	return p1, p2
}

// countdownCtx is a context that is cancelled after its Err has been
// asked n times: Ctrl-C part way through a file.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestInterruptedRead: Ctrl-C part way through the second of two files
// (read in time order: the seed first) is reported: exit 3, "truncated",
// and an errors entry for what was not read.
func TestInterruptedRead(t *testing.T) {
	big := filepath.Join(pcapDir, "bulk-bottleneck.pcap")
	var out, errb bytes.Buffer
	// Err is asked before each file and before each batch of packets:
	// the fifth time is part way into the big file (18 674 packets)
	ctx := &countdownCtx{Context: context.Background(), n: 4}
	code := run(ctx, []string{"--json", "-r", big, "-r", filepath.Join(pcapDir, "seed-serveralive.pcap")}, nil, &out, &errb)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum report.JSONSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	var at int64
	if m := regexp.MustCompile(`interrupted after packet (\d+):`).FindStringSubmatch(errb.String()); m != nil {
		at, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if code != exitPartial || !sum.Truncated || len(sum.Errors) != 1 || at <= 0 || at >= 18674 || sum.Packets != 97+at {
		t.Errorf("exit %d, interrupted after packet %d, summary %+v, stderr %q", code, at, sum, errb.String())
	}
}
