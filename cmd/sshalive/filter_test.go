package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFilterExpression: a trailing tcpdump expression replaces the port
// filter, flags may follow it, and a bad one is a usage error. The
// expressions are in capture/bpfc's subset, so this runs in builds with
// and without cgo.
func TestFilterExpression(t *testing.T) {
	seed := filepath.Join(pcapDir, "seed-serveralive.pcap")
	out, stderr, code := sshalive(t, "-r", seed, "host", "10.79.102.248", "and", "tcp", "port", "22", "-nn")
	if code != exitOK || !strings.Contains(out, "→ ServerAliveInterval 20") {
		t.Errorf("exit %d, stderr %q, out:\n%s", code, stderr, out)
	}
	if _, stderr, code = sshalive(t, "-r", seed, "host 192.0.2.99"); code != exitError || !strings.Contains(stderr, "no SSH traffic (host 192.0.2.99)") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code = sshalive(t, "-r", seed, "tcp prot 22"); code != exitUsage || !strings.Contains(stderr, "syntax error") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// SSH on a port the default filter does not cover.
	out, _, code = sshalive(t, "-r", "../../testdata/public/ssh_kex_mlkem.pcap", "tcp port 2299")
	if code != exitOK || !strings.Contains(out, `server "SSH-2.0-OpenSSH_9.9"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
