//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaticBinaryLive: the release build. CGO_ENABLED=0 gives a statically
// linked binary (no interpreter, no shared library) that says its version
// and, with the default filter compiled by sshalive itself, captures a real
// session's probes on -i lo and -i any.
func TestStaticBinaryLive(t *testing.T) {
	n := newLabNS(t, nil, nil)
	bin := filepath.Join(t.TempDir(), "sshalive")
	buildStatic(t, bin, "-ldflags", "-X main.version=v0.0.0-static-test")
	if out, err := exec.Command(bin, "--version").Output(); err != nil || strings.TrimSpace(string(out)) != "sshalive v0.0.0-static-test" {
		t.Errorf("--version: %q %v", out, err)
	}
	for _, iface := range []string{"lo", "any"} {
		cmd, stdout, stderr := n.start(bin, "-i", iface, "--duration", "6s", "--json")
		if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1", "-o", "Ciphers=chacha20-poly1305@openssh.com"}, "sleep 3").CombinedOutput(); err != nil {
			t.Fatalf("ssh: %v %s", err, out)
		}
		if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
			t.Fatalf("-i %s: exit %d: %s", iface, code, stderr)
		}
		c := oneConn(t, stdout.String())
		checkKA(t, c.SSHKeepalives, "client", 2, 1.0)
		if k := c.SSHKeepalives[0]; k.ProbeBytes != 52 || k.ReplyBytes != 28 {
			t.Errorf("-i %s: %+v", iface, k)
		}
	}
}

// TestLiveRecordTiming: with --json a connection's record comes when the
// connection ends — its FIN exchange, then ClosedLinger (2 s) for its last
// packets and at most a second to the next drain — not at the end of the
// capture. Tolerance: 4 s after ssh exits.
func TestLiveRecordTiming(t *testing.T) {
	n := newLabNS(t, nil, nil)
	self, _ := os.Executable()
	cmd := n.in(self, "-i", "lo", "--json", "--duration", "20s")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	stderr := n.run(cmd)
	pw.Close()
	lines := make(chan time.Time, 4)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 && strings.Contains(string(buf[:n]), `"type":"connection"`) {
				lines <- time.Now()
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	if out, err := n.ssh(nil, "true").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	ended := time.Now()
	select {
	case at, ok := <-lines:
		if !ok {
			t.Fatalf("no record: %s", stderr)
		}
		if d := at.Sub(ended); d > 4*time.Second {
			t.Errorf("record %v after the session ended, want within 4 s", d)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("no record 10 s after the session ended")
	}
	cmd.Process.Kill()
	cmd.Wait()
	pr.Close()
}
