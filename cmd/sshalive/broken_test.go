package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshalive/sshalive/report"
)

const brokenDir = "../../testdata/broken"

// TestBrokenInputs runs every file of the broken-input corpus (made by
// testdata/broken/gen from seed-serveralive.pcap: one connection whose
// client sends 29 answered keepalives). Each gets its documented exit code
// and a stderr line saying what and where the damage is; when part of the
// file is readable, the connection seen before the damage is reported with
// the probes read so far.
func TestBrokenInputs(t *testing.T) {
	tests := []brokenCase{
		// Not a capture at all.
		{"zero-length.pcap", exitError, "zero-length.pcap: empty file", -1, nil},
		{"one-byte.pcap", exitError, "not a pcap or pcapng file", -1, nil},
		{"wrong-magic.pcap", exitError, "wrong-magic.pcap: not a pcap or pcapng file", -1, nil},
		{"pcap-magic-text.pcap", exitError, "corrupt pcap header", -1, nil},
		{"corrupt-version.pcap", exitError, "corrupt pcap header: Unknown major version 99", -1, nil},
		{"corrupt-linktype.pcap", exitError, "link type 65535 (UnknownLinkType): unsupported link type", -1, nil},
		{"cut-global-header.pcap", exitError, "pcap header: file truncated", -1, nil},
		{"cut-pcapng-section-header.pcapng", exitError, "pcapng header: file truncated", -1, nil},
		{"cut-pcapng-interface-block.pcapng", exitError, "pcapng header: file truncated", -1, nil},
		{"gzip-of-garbage.pcap.gz", exitError, "not a pcap or pcapng file", -1, nil},
		{"gzip-empty.pcap.gz", exitError, "gzip: empty file", -1, nil},
		{"gzip-header-only.pcap.gz", exitError, "gzip", -1, nil},
		// A valid capture with no packets.
		{"header-only.pcap", exitError, "no SSH traffic", -1, nil},

		// Damage part way: everything before it is reported, exit 3.
		{"cut-record-header.pcap", exitPartial, "after packet 40: file truncated mid-packet", 14, nil},
		{"cut-packet-data.pcap", exitPartial, "after packet 40: file truncated mid-packet", 14, nil},
		{"cut-last-byte.pcap", exitPartial, "after packet 86: file truncated mid-packet", 29, nil},
		{"trailing-garbage.pcap", exitPartial, "after packet 87: file truncated mid-packet", 29, nil},
		{"huge-record.pcap", exitPartial, "after packet 40: capture length exceeds snap length: 4294967280 > 262144", 14, nil},
		{"huge-record-huge-snaplen.pcap", exitPartial, "after packet 40: file truncated mid-packet", 14, nil},
		{"caplen-over-len.pcap", exitPartial, "after packet 40: capture length exceeds original packet length", 14, nil},
		{"cut-pcapng-packet-block.pcapng", exitPartial, "after packet 38: file truncated mid-packet", 13, nil},
		{"corrupt-pcapng-block-length.pcapng", exitPartial, "after packet 40:", 14, nil},
		{"cut-gzip.pcap.gz", exitPartial, "after packet 51: file truncated mid-packet", 17, nil},
		{"gzip-bad-crc.pcap.gz", exitPartial, "after packet 87: gzip: invalid checksum", 29, nil},

		// Odd but whole: the result is the seed's.
		{"good.pcapng", exitOK, "", 29, nil},
		{"duplicate-segments.pcap", exitOK, "", 29, sameSeedKeepalives("duplicates")},
		{"out-of-order.pcap", exitOK, "", 29, sameSeedKeepalives("reordering")},
		{"seq-wraparound.pcap", exitOK, "", 29, sameSeedKeepalives("sequence wraparound")},
		// Ten packets stamped an hour early: no negative interval or reply
		// latency may come out of them.
		{"timestamps-backwards.pcap", exitOK, "", 29, noNegativeTimes},
		// Three empty records: counted as undecodable, said on stderr.
		{"zero-length-records.pcap", exitOK, "3 packets could not be decoded", 29, func(t *testing.T, _ []report.JSONConn, sum report.JSONSummary) {
			if sum.Packets != 90 || sum.Malformed != 3 {
				t.Errorf("summary packets %d malformed %d, want 90 and 3", sum.Packets, sum.Malformed)
			}
		}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) { checkBroken(t, tt) })
	}
	files, err := filepath.Glob(filepath.Join(brokenDir, "*.*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in %s", brokenDir)
	}
	for _, f := range files {
		if name := filepath.Base(f); !covered[name] && name != "README.md" {
			t.Errorf("%s has no row in TestBrokenInputs", name)
		}
	}
}

// brokenCase is one row of TestBrokenInputs.
type brokenCase struct {
	file    string
	code    int
	errPart string // "" when stderr must be empty
	probes  int    // client probes reported; -1 when no connection is expected
	check   func(t *testing.T, conns []report.JSONConn, sum report.JSONSummary)
}

// checkBroken runs one damaged file and checks its exit code, stderr, and
// what was reported of the seed's connection.
func checkBroken(t *testing.T, tt brokenCase) {
	path := filepath.Join(brokenDir, tt.file)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v (run go run ./testdata/broken/gen)", err)
	}
	out, stderr, code := sshalive(t, "-r", path, "--json")
	if code != tt.code {
		t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
	}
	if tt.errPart == "" && stderr != "" {
		t.Errorf("stderr %q, want none", stderr)
	}
	if !strings.Contains(stderr, tt.errPart) {
		t.Errorf("stderr %q lacks %q", stderr, tt.errPart)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line != "" && !strings.HasPrefix(line, "sshalive: ") {
			t.Errorf("stderr line %q lacks the sshalive: prefix", line)
		}
	}
	conns, sum := brokenRecords(t, out)
	if tt.probes < 0 {
		if len(conns) != 0 {
			t.Errorf("%d connections reported, want none", len(conns))
		}
		return
	}
	if len(conns) != 1 {
		t.Fatalf("%d connections reported, want the seed's one", len(conns))
	}
	c := conns[0]
	if c.Client != "10.79.102.248:61622" || c.Server != "10.124.202.230:22" {
		t.Errorf("connection %s > %s", c.Client, c.Server)
	}
	if len(c.SSHKeepalives) != 1 || c.SSHKeepalives[0].Sender != "client" || c.SSHKeepalives[0].Probes != tt.probes {
		t.Errorf("keepalives %+v, want %d client probes", c.SSHKeepalives, tt.probes)
	}
	if tt.code == exitPartial && (!sum.Truncated && strings.Contains(tt.errPart, "truncated") || len(sum.Errors) != 1) {
		t.Errorf("summary truncated=%v errors=%q", sum.Truncated, sum.Errors)
	}
	if tt.check != nil && len(c.SSHKeepalives) > 0 {
		tt.check(t, conns, sum)
	}
}

// sameSeedKeepalives checks that a harmless oddity (what) left the seed's
// keepalives as they are: 29 answered 52/28 probes, none unanswered.
func sameSeedKeepalives(what string) func(*testing.T, []report.JSONConn, report.JSONSummary) {
	return func(t *testing.T, conns []report.JSONConn, _ report.JSONSummary) {
		if k := conns[0].SSHKeepalives[0]; k.Answered != 29 || k.ProbeBytes != 52 || k.ReplyBytes != 28 || k.LongestUnanswered != 0 {
			t.Errorf("%s changed the keepalives: %+v", what, k)
		}
	}
}

// noNegativeTimes checks that packets stamped early gave no negative
// interval or reply latency.
func noNegativeTimes(t *testing.T, conns []report.JSONConn, _ report.JSONSummary) {
	k := conns[0].SSHKeepalives[0]
	if k.Interval != nil && k.Interval.Min < 0 {
		t.Errorf("negative interval %v s", k.Interval.Min)
	}
	if k.ReplyLatency != nil && k.ReplyLatency.Min < 0 {
		t.Errorf("negative reply latency %v s: a packet stamped before the probe was taken as its reply", k.ReplyLatency.Min)
	}
}

// brokenRecords splits --json output into connection records and the summary.
func brokenRecords(t *testing.T, out string) ([]report.JSONConn, report.JSONSummary) {
	t.Helper()
	var conns []report.JSONConn
	var sum report.JSONSummary
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var probe struct{ Type string }
		if err := json.Unmarshal([]byte(line), &probe); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		switch probe.Type {
		case "connection":
			var c report.JSONConn
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		case "summary":
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				t.Fatal(err)
			}
		}
	}
	return conns, sum
}
