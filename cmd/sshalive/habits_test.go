package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTcpdumpHabits: what people type from tcpdump and tshark habit gets a
// working run or one clear line.
func TestTcpdumpHabits(t *testing.T) {
	seed := filepath.Join(pcapDir, "seed-serveralive.pcap")
	client := filepath.Join(pcapDir, "seed-clientalive.pcap")
	if _, err := os.Stat(client); err != nil {
		t.Fatal(err)
	}
	// -r t*.pcap: the shell's extra files are read, not taken for a filter
	out, stderr, code := sshalive(t, "--json", "-r", seed, client)
	if code != exitOK || len(connRecords(t, out)) != 2 {
		t.Errorf("-r A B: exit %d, %d connections: %s", code, len(connRecords(t, out)), stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{seed}, exitUsage, "is a file: read it with -r (sshalive -r " + seed + ")"},
		{[]string{"-p", "-c", "-r", seed}, exitUsage, `invalid argument "-c" for "-p, --port" flag: not a number (sshalive's -p is the SSH server port`},
		{[]string{"--json", "--events", "-r", seed}, exitUsage, "--json and --events exclude each other"},
		{[]string{"--html", "-", "--json", "-r", seed}, exitUsage, "--html - writes the HTML report to stdout"},
		{[]string{"-r", "no-such.pcap"}, exitError, "sshalive: no-such.pcap: no such file or directory\n"},
	} {
		_, stderr, code := sshalive(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "strconv") {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q in one line", c.args, code, stderr, c.code, c.want)
		}
	}
	// --no-promiscuous-mode (tcpdump's -p) is accepted; --html - is stdout
	out, stderr, code = sshalive(t, "--no-promiscuous-mode", "--html", "-", "-r", seed)
	if code != exitOK || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "</html>") {
		t.Errorf("--html -: exit %d, %q…: %s", code, out[:min(len(out), 40)], stderr)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Errorf("--html - wrote a file named -")
	}
}
