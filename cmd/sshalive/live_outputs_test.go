//go:build linux

package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveBrokenPipe: `sshalive -i lo --json -w F --html P | head -1`.
// Once stdout is closed sshalive stops capturing, writes the -w and --html
// files whole, says why in one line, and exits 4 (it once died of SIGPIPE
// with a 0-byte -w file and no report).
func TestLiveBrokenPipe(t *testing.T) {
	n := newLabNS(t, nil, nil)
	dir := t.TempDir()
	saved, page := filepath.Join(dir, "saved.pcap"), filepath.Join(dir, "report.html")
	self, _ := os.Executable()
	cmd := n.in(self, "-i", "lo", "--json", "--interval", "1s", "-w", saved, "--html", page)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	stderr := n.run(cmd)
	pw.Close()
	session := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 2")
	if out, err := session.CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	line, err := bufio.NewReader(pr).ReadString('\n') // head -1
	if err != nil || !strings.Contains(line, `"type":`) {
		t.Fatalf("first line %q: %v", line, err)
	}
	pr.Close()
	if code := waitExit(t, cmd, 10*time.Second); code != exitOutput {
		t.Fatalf("exit %d, want %d: %s", code, exitOutput, stderr)
	}
	if !strings.Contains(stderr.String(), "broken pipe") || !strings.Contains(stderr.String(), "stopped capturing: stdout is closed") {
		t.Errorf("stderr: %s", stderr)
	}
	out, _, code := sshalive(t, "--json", "-r", saved)
	if code != exitOK || len(connRecords(t, out)) != 1 {
		t.Errorf("-w file after the pipe closed: exit %d\n%s", code, out)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "</html>") {
		t.Errorf("--html after the pipe closed: %v (%d bytes)", err, len(b))
	}
}

// TestLiveFullDisk: -w on a full disk (/dev/full): one line says the
// packets are no longer saved, the analysis and its report go on, and the
// exit code is 4 (it once panicked at exit).
func TestLiveFullDisk(t *testing.T) {
	n := newLabNS(t, nil, nil)
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--json", "-w", "/dev/full", "--duration", "5s")
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 2").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 15*time.Second); code != exitOutput {
		t.Fatalf("exit %d, want %d: %s", code, exitOutput, stderr)
	}
	if got := strings.Count(stderr.String(), "-w /dev/full: "); got != 1 || !strings.Contains(stderr.String(), "no space left on device") {
		t.Errorf("want one -w line naming the full disk, got %d:\n%s", got, stderr)
	}
	if c := oneConn(t, stdout.String()); len(c.SSHKeepalives) != 1 || c.SSHKeepalives[0].Probes < 1 {
		t.Errorf("report after the full disk: %+v", c)
	}
}

// TestLiveQuickInterrupt: Ctrl-C right after a session ends still reads the
// FIN the kernel holds: the connection ends "fin", not "open".
func TestLiveQuickInterrupt(t *testing.T) {
	n := newLabNS(t, nil, nil)
	saved := filepath.Join(t.TempDir(), "saved.pcap")
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--json", "-U", "-w", saved)
	if out, err := n.ssh(nil, "true").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	// -U: every packet is in the file the moment it is read, before any
	// once-a-second flush
	if st, err := os.Stat(saved); err != nil || st.Size() <= 24 {
		t.Errorf("-U: the -w file holds no packet right after the session (%v)", err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if c := oneConn(t, stdout.String()); c.End.How != "fin" {
		t.Errorf("end %+v, want fin", c.End)
	}
}

// TestOfflineBrokenPipe: `sshalive -r F | head -1` offline: exit 4 and one
// line, never a panic or exit 1 ("nothing could be analysed").
func TestOfflineBrokenPipe(t *testing.T) {
	var errb strings.Builder
	code := run(context.Background(), []string{"-r", filepath.Join("..", "..", "testdata", "pcaps", "seed-serveralive.pcap")}, nil, brokenPipe{}, &errb)
	if code != exitOutput || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "stdout: broken pipe") {
		t.Errorf("exit %d: %q", code, errb.String())
	}
}

type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }
