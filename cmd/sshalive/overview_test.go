package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// busy is a capture of a busy host made of bundled ones: 10 connections,
// four of which ended badly (dead path, keepalive timeout, TCP keepalive
// timeout, idle drop) and three quiet sessions.
func busy() []string {
	var args []string
	for _, f := range []string{"multi.pcap", "idle-drop.pcap", "serveralive-hung.pcap", "clientalive-dead.pcap",
		"tcpka-dead.pcap", "long-intervals.pcap", "user-exit.pcap", "idle-none.pcap"} {
		args = append(args, "-r", filepath.Join(pcapDir, f))
	}
	return args
}

// heading is the first line of a connection's detail.
var heading = regexp.MustCompile(`(?m)^\S+ → \S+  \d{4}-\d\d-\d\d `)

// checkGolden compares out with testdata/pcaps/golden/name (-update
// rewrites it).
func checkGolden(t *testing.T, name, out string) {
	t.Helper()
	out = strings.ReplaceAll(out, pcapDir+"/", "")
	golden := filepath.Join(pcapDir, "golden", name)
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (run with -update after checking):\n%s", golden, out)
	}
}

// TestGoldenOverview: with more than 5 connections the report starts with
// the aggregate and one line per connection, those that need attention
// first, and gives the detail of each kind of problem once; --all gives
// every connection's detail with the legend once.
func TestGoldenOverview(t *testing.T) {
	out, stderr, code := sshalive(t, busy()...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "overview.table", out)
	lines := strings.Split(out, "\n")
	first := strings.Join(lines[:min(len(lines), 25)], "\n")
	for _, want := range []string{"kept alive by", "need attention   4 connections (marked !): 4 ended badly", "!  11-22 04:02:16"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first screen lacks %q:\n%s", want, first)
		}
	}
	for _, cause := range []string{"dead-path (server)", "keepalive-timeout (client)", "tcp-keepalive-timeout (client)", "idle-drop (client)"} {
		if !strings.Contains(out, "\n! ended: "+cause+"\n") {
			t.Errorf("no detail for %s", cause)
		}
	}
	if n := strings.Count(out, "# data, k SSH keepalive"); n != 1 {
		t.Errorf("the legend is printed %d times", n)
	}
	if strings.Contains(out, "command-ended\n  risk") || strings.Count(out, "recommended:") > 1 {
		t.Errorf("connections that need no attention get advice:\n%s", out)
	}

	all, _, _ := sshalive(t, append(busy(), "--all")...)
	checkGolden(t, "overview-all.table", all)
	if n := len(heading.FindAllString(all, -1)); n != 10 {
		t.Errorf("--all: %d connection details, want 10", n)
	}
	if n := strings.Count(all, "# data, k SSH keepalive"); n != 1 {
		t.Errorf("--all: the legend is printed %d times", n)
	}
	if n := strings.Count(all, "risk: no keepalives"); n != 1 {
		t.Errorf("--all: %d risk lines without keepalives, want 1 (the idle drop's; the quiet sessions' are one line):\n%s", n, all)
	}
}

// TestCause: --cause selects connections by end cause, in text and JSON;
// a name that is no cause is a usage error.
func TestCause(t *testing.T) {
	out, stderr, code := sshalive(t, append(busy(), "--json", "--cause", "dead-path,idle-drop", "--cause", "keepalive-timeout")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var causes []string
	for _, j := range connRecords(t, out) {
		causes = append(causes, j.End.Cause)
	}
	slices.Sort(causes)
	if got := strings.Join(causes, " "); got != "dead-path idle-drop keepalive-timeout" {
		t.Errorf("--cause selected %q", got)
	}
	text, _, _ := sshalive(t, append(busy(), "--cause", "command-ended")...)
	if n := len(heading.FindAllString(text, -1)); n != 5 || strings.Contains(text, "dead path") {
		t.Errorf("--cause command-ended: %d connections shown, want the 5 command-ended ones:\n%s", n, text)
	}
	if _, stderr, code := sshalive(t, append(busy(), "--cause", "timeout")...); code != exitUsage || !strings.Contains(stderr, "not a cause") {
		t.Errorf("--cause timeout: exit %d, %q", code, stderr)
	}
}

// TestLocalTime: times are shown in local time with the zone said once
// (pinned here to a fixed UTC+01:00 zone named CET), and in UTC with
// --utc; JSON stays UTC.
func TestLocalTime(t *testing.T) {
	saved := localZone
	localZone = func() *time.Location { return time.FixedZone("CET", 3600) }
	defer func() { localZone = saved }()
	seed := filepath.Join(pcapDir, "seed-serveralive.pcap")
	out, stderr, code := sshalive(t, "-r", seed)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "local-time.table", out)
	if !strings.HasPrefix(out, "times in CET (UTC+01:00)\n") {
		t.Errorf("the zone is not said first:\n%s", out)
	}
	utc, _, _ := sshalive(t, "-r", seed, "--utc")
	want, err := os.ReadFile(filepath.Join(pcapDir, "golden", "seed-serveralive.pcap.table"))
	if err != nil {
		t.Fatal(err)
	}
	if utc != string(want) {
		t.Errorf("--utc differs from the UTC golden:\n%s", utc)
	}
	js, _, _ := sshalive(t, "-r", seed, "--json")
	if !strings.Contains(js, `"first_seen":"2026-`) || !strings.Contains(js, `Z","last_seen"`) {
		t.Errorf("JSON times are not UTC: %.300s", js)
	}
}

// TestASCII: where the locale is not UTF-8 the text report is ASCII only.
func TestASCII(t *testing.T) {
	saved := getenv
	defer func() { getenv = saved }()
	getenv = func(k string) string {
		if k == "LANG" {
			return "C"
		}
		return ""
	}
	out, _, code := sshalive(t, busy()...)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for i, r := range out {
		if r > 127 {
			t.Fatalf("non-ASCII %q at %d: %s", r, i, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	if !strings.Contains(out, "+-------+") || !strings.Contains(out, "198.18.0.1:57322 -> 198.18.0.2:22") {
		t.Errorf("no ASCII table or arrow:\n%s", out)
	}
}
