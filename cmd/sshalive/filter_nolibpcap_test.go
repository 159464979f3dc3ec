//go:build !(cgo && libpcap)

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFilterOutsideSubset: without cgo there is no libpcap to fall back
// to, so an expression outside capture/bpfc's subset is a one-line usage
// error naming the word and what can handle it.
func TestFilterOutsideSubset(t *testing.T) {
	seed := filepath.Join(pcapDir, "seed-serveralive.pcap")
	_, stderr, code := sshalive(t, "-r", seed, "udp", "port", "53")
	if code != exitUsage || !strings.Contains(stderr, `"udp" is outside`) || !strings.Contains(stderr, "make build-libpcap") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
