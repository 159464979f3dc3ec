//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshalive/sshalive/report"
)

// The live tests run real OpenSSH and a live sshalive, each as its own
// process, inside a network namespace the test creates: sshd and ssh talk
// over the namespace's own loopback, so kernel keepalive sysctls set there
// touch nothing else. They need root (CI runs as root; make test installs
// openssh-server, iproute2).

// labNS is a throwaway network namespace with a running sshd. The
// namespace is held by a bounded `unshare --net sleep` process and entered
// with nsenter (util-linux), which needs no mount of its own, so the tests
// also run in a chroot.
type labNS struct {
	t      *testing.T
	holder *exec.Cmd
	netns  string // /proc/PID/ns/net of the holder
	dir    string
	sshd   *exec.Cmd
}

// in returns a command running inside the namespace.
func (n *labNS) in(args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.netns, "--"}, args...)...)
}

func newLabNS(t *testing.T, sshdConfig []string, sysctls map[string]string) *labNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (network namespaces, packet capture)")
	}
	for _, bin := range []string{"ip", "ss", "unshare", "nsenter", "sysctl", "/usr/sbin/sshd", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed (make test installs it): %v", bin, err)
		}
	}
	n := &labNS{t: t, dir: t.TempDir()}
	n.holder = exec.Command("unshare", "--net", "--", "sleep", "300")
	if err := n.holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.holder.Process.Kill()
		n.holder.Wait()
	})
	n.netns = fmt.Sprintf("/proc/%d/ns/net", n.holder.Process.Pid)
	for i := 0; ; i++ { // until unshare has moved into its namespace; bounded
		self, _ := os.Readlink("/proc/self/ns/net")
		its, _ := os.Readlink(n.netns)
		if its != "" && its != self {
			break
		}
		if i == 250 { // 5 s: a loaded machine can be slow to fork
			t.Fatal("unshare --net did not create a namespace")
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.must("ip", "link", "set", "lo", "up")
	for k, v := range sysctls {
		n.must("sysctl", "-q", "-w", k+"="+v)
	}
	for _, k := range []string{"host", "user"} {
		n.must("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(n.dir, k))
	}
	pub, err := os.ReadFile(filepath.Join(n.dir, "user.pub"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(n.dir, "authorized_keys"), pub, 0o600)
	os.MkdirAll("/run/sshd", 0o755)
	cfg := append([]string{"ListenAddress 127.0.0.1", "Port 22", "HostKey " + filepath.Join(n.dir, "host"),
		"PidFile " + filepath.Join(n.dir, "sshd.pid"), "AuthorizedKeysFile " + filepath.Join(n.dir, "authorized_keys"),
		"PermitRootLogin prohibit-password", "UsePAM no", "StrictModes no"}, sshdConfig...)
	cfgPath := filepath.Join(n.dir, "sshd_config")
	os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o600)
	n.sshd = n.in("/usr/sbin/sshd", "-D", "-e", "-f", cfgPath)
	n.sshd.Stderr = &bytes.Buffer{}
	if err := n.sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.sshd.Process.Kill()
		n.sshd.Wait()
	})
	for i := 0; ; i++ { // until sshd listens; bounded
		// Listening, checked without connecting (a probe connection would be
		// traffic in the captures).
		out, _ := n.in("ss", "-Hltn", "sport = :22").Output()
		if len(bytes.TrimSpace(out)) > 0 {
			break
		}
		if i == 50 {
			t.Fatalf("sshd did not start: %s", n.sshd.Stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

// must runs a command in the namespace (ssh-keygen too: harmless there).
func (n *labNS) must(args ...string) {
	n.t.Helper()
	if out, err := n.in(args...).CombinedOutput(); err != nil {
		n.t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// ssh runs an OpenSSH client session in the namespace.
func (n *labNS) ssh(opts []string, command string) *exec.Cmd {
	args := []string{"ssh", "-F", "/dev/null", "-i", filepath.Join(n.dir, "user"),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"}
	args = append(append(args, opts...), "root@127.0.0.1", command)
	return n.in(args...)
}

// sshalive starts this test binary as sshalive (see TestMain) in the
// namespace and returns once it captures.
func (n *labNS) sshalive(args ...string) (*exec.Cmd, *bytes.Buffer, *procStderr) {
	n.t.Helper()
	self, err := os.Executable()
	if err != nil {
		n.t.Fatal(err)
	}
	return n.start(append([]string{self}, args...)...)
}

// start runs argv (this test binary as sshalive, perhaps behind setpriv)
// in the namespace and returns once it captures.
func (n *labNS) start(argv ...string) (*exec.Cmd, *bytes.Buffer, *procStderr) {
	n.t.Helper()
	cmd := n.in(argv...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr := n.run(cmd)
	return cmd, &stdout, stderr
}

// run starts cmd, sshalive, with SSHALIVE_RUN_MAIN set and returns once it
// captures; its stderr is gathered in the buffer returned.
func (n *labNS) run(cmd *exec.Cmd) *procStderr {
	n.t.Helper()
	cmd.Env = append(os.Environ(), "SSHALIVE_RUN_MAIN=1")
	stderr := &procStderr{cmd: cmd, eof: make(chan struct{})}
	pr, pw, _ := os.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	pw.Close()
	ready := make(chan bool, 1)
	go func() {
		defer close(stderr.eof)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			stderr.add(sc.Text() + "\n")
			if !sent && strings.Contains(sc.Text(), "capturing on") {
				ready <- true
				sent = true
			}
		}
		if !sent {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			n.t.Fatalf("sshalive did not start capturing: %s", stderr.String())
		}
	case <-time.After(10 * time.Second):
		n.t.Fatal("sshalive did not start capturing within 10 s")
	}
	return stderr
}

// procStderr gathers a process's stderr, line by line, from a goroutine
// of its own: String is what came so far, and, once the process was
// waited for, all of it (the goroutine may read the last lines after the
// process ended).
type procStderr struct {
	cmd *exec.Cmd
	eof chan struct{}
	mu  sync.Mutex
	b   strings.Builder
}

func (p *procStderr) add(s string) {
	p.mu.Lock()
	p.b.WriteString(s)
	p.mu.Unlock()
}

func (p *procStderr) String() string {
	if p.cmd.ProcessState != nil {
		select {
		case <-p.eof:
		case <-time.After(2 * time.Second):
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		cmd.Process.Kill()
		t.Fatalf("did not exit within %v", limit)
	}
	return -1
}

func oneConn(t *testing.T, out string) report.JSONConn {
	t.Helper()
	conns := connRecords(t, out)
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1:\n%s", len(conns), out)
	}
	return conns[0]
}

func checkKA(t *testing.T, ks []report.JSONKeepalives, sender string, minProbes int, interval float64) {
	t.Helper()
	if len(ks) != 1 {
		t.Fatalf("keepalive entries %+v, want one from the %s", ks, sender)
	}
	k := ks[0]
	if k.Sender != sender || k.Probes < minProbes || k.Answered != k.Probes {
		t.Errorf("sender %s probes %d answered %d; want %s, at least %d, all answered", k.Sender, k.Probes, k.Answered, sender, minProbes)
	}
	if k.Interval == nil || math.Abs(k.Interval.Median-interval) > 0.02*interval {
		t.Errorf("interval %+v, want %.1f s ±2%%", k.Interval, interval)
	}
}

// TestLiveServerAlive: ssh -o ServerAliveInterval=1 for 6 s; sshalive -i lo
// --duration must see the client probe every second.
func TestLiveServerAlive(t *testing.T) {
	n := newLabNS(t, nil, nil)
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--duration", "9s", "--json")
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1", "-o", "Ciphers=chacha20-poly1305@openssh.com"}, "sleep 6").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := oneConn(t, stdout.String())
	checkKA(t, c.SSHKeepalives, "client", 4, 1.0)
	// Which end sends the first FIN after the remote command ends depends on
	// scheduling (ssh and sshd close within microseconds of each other).
	if c.SSHKeepalives[0].ProbeBytes != 52 || c.SSHKeepalives[0].ReplyBytes != 28 || c.End.How != "fin" {
		t.Errorf("%+v", c)
	}
	if !strings.Contains(stderr.String(), "dropped by kernel") {
		t.Errorf("no capture statistics on stderr: %s", stderr)
	}
}

// TestLiveAny: the README's first live example, -i any (a cooked capture,
// read as raw IP: the default filter without its VLAN branch). The
// loopback's outgoing copy of each frame is refused in the kernel, so every
// packet is seen once.
func TestLiveAny(t *testing.T) {
	n := newLabNS(t, nil, nil)
	cmd, stdout, stderr := n.sshalive("-i", "any", "--duration", "9s", "--json")
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1", "-o", "Ciphers=chacha20-poly1305@openssh.com"}, "sleep 6").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "capturing on any (tcp and (port 22))") {
		t.Errorf("stderr should name the cooked filter: %s", stderr)
	}
	c := oneConn(t, stdout.String())
	checkKA(t, c.SSHKeepalives, "client", 4, 1.0)
	if k := c.SSHKeepalives[0]; k.ProbeBytes != 52 || k.ReplyBytes != 28 || k.Answered != k.Probes {
		t.Errorf("%+v", k)
	}
}

// TestLiveHangup: SIGHUP (the bastion's terminal closed) stops the capture
// and reports, as Ctrl-C does, with the -w file whole.
func TestLiveHangup(t *testing.T) {
	n := newLabNS(t, nil, nil)
	saved := filepath.Join(t.TempDir(), "saved.pcap")
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--json", "-w", saved)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGHUP)
	if code := waitExit(t, cmd, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d after SIGHUP: %s", code, stderr)
	}
	if !strings.Contains(stdout.String(), `"type":"summary"`) {
		t.Errorf("no summary after SIGHUP: %s", stdout)
	}
	if st, err := os.Stat(saved); err != nil || st.Size() < 24 {
		t.Errorf("-w file after SIGHUP: %v", err)
	}
}

// TestLiveDropPrivileges: -Z nobody with -w and --html into a directory
// only root may write: the files are opened before the privileges go, so
// the capture ends with both written (they once failed after the capture,
// "permission denied", the report lost).
func TestLiveDropPrivileges(t *testing.T) {
	needSearchableRoot(t)
	n := newLabNS(t, nil, nil)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	page, saved := filepath.Join(dir, "report.html"), filepath.Join(dir, "saved.pcap")
	cmd, stdout, stderr := n.sshalive("-i", "lo", "-Z", "nobody", "--duration", "6s", "--json", "--html", page, "-w", saved)
	checkConfined(t, cmd, "65534", true)
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 3").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	oneConn(t, stdout.String())
	for _, f := range []string{page, saved} {
		st, err := os.Stat(f)
		switch {
		case err != nil:
			t.Error(err)
		case st.Size() < 1000:
			t.Errorf("%s: %d bytes", f, st.Size())
		}
	}
}

// TestLiveClientAlive: sshd ClientAliveInterval=1 (9.2 probes every 2 s).
func TestLiveClientAlive(t *testing.T) {
	n := newLabNS(t, []string{"ClientAliveInterval 1"}, nil)
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--duration", "11s", "--json")
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=0"}, "sleep 8").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := oneConn(t, stdout.String())
	ver, _ := exec.Command("ssh", "-V").CombinedOutput()
	want := 2.0 // sshd 9.2–9.4 probes at twice ClientAliveInterval
	if !strings.Contains(string(ver), "OpenSSH_9.2") && !strings.Contains(string(ver), "OpenSSH_9.3") && !strings.Contains(string(ver), "OpenSSH_9.4") {
		want = 1.0
	}
	checkKA(t, c.SSHKeepalives, "server", 3, want)
	if c.Inferred.ClientAliveInterval == nil || *c.Inferred.ClientAliveInterval != 1 {
		t.Errorf("inferred %+v", c.Inferred)
	}
}

// TestLiveTCPKeepalive: TCPKeepAlive with a 2 s keepalive time set in the
// namespace; the SSH layer is quiet.
func TestLiveTCPKeepalive(t *testing.T) {
	n := newLabNS(t, []string{"TCPKeepAlive no", "ClientAliveInterval 0"}, map[string]string{
		"net.ipv4.tcp_keepalive_time": "2", "net.ipv4.tcp_keepalive_intvl": "1", "net.ipv4.tcp_keepalive_probes": "3"})
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--duration", "11s", "--json")
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=0", "-o", "TCPKeepAlive=yes"}, "sleep 8").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := oneConn(t, stdout.String())
	if len(c.SSHKeepalives) != 0 {
		t.Errorf("SSH keepalives %+v on a quiet session", c.SSHKeepalives)
	}
	// The kernel's timer wheel stretches 2 s to ~2.02 s (FACTS).
	checkKA(t, c.TCPKeepalives, "client", 3, 2.02)
	if c.Inferred.TCPKeepaliveTime == nil || *c.Inferred.TCPKeepaliveTime != 2 {
		t.Errorf("inferred %+v", c.Inferred)
	}
}

// TestLiveInterrupt: SIGINT mid-run prints the final report (connections
// still open) and exits 0; -w saved what was analysed.
func TestLiveInterrupt(t *testing.T) {
	n := newLabNS(t, nil, nil)
	saved := filepath.Join(t.TempDir(), "saved.pcap")
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--json", "-w", saved)
	session := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 15")
	if err := session.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		session.Process.Kill()
		session.Wait()
	}()
	time.Sleep(5 * time.Second)
	// -w is flushed every second: readable while the capture runs
	if st, err := os.Stat(saved); err != nil || st.Size() <= 24 {
		t.Errorf("-w file empty while capturing (%v)", err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d after SIGINT: %s", code, stderr)
	}
	c := oneConn(t, stdout.String())
	if c.End.How != "open" || len(c.SSHKeepalives) != 1 || c.SSHKeepalives[0].Probes < 2 {
		t.Errorf("final report %+v", c)
	}
	// The saved capture gives the same answer offline.
	out, _, code := sshalive(t, "--json", "-r", saved)
	if code != exitOK || oneConn(t, out).SSHKeepalives[0].Probes != c.SSHKeepalives[0].Probes {
		t.Errorf("offline over -w file: exit %d\n%s", code, out)
	}
}

// TestLiveErrors: a missing interface and a bad filter each get one line.
func TestLiveErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	_, stderr, code := sshalive(t, "-i", "sa-no-such-if0")
	if code != exitError || !strings.Contains(stderr, "no such interface") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d: %q", code, stderr)
	}
	// As its own process: a capture that opens gives up the process's
	// capabilities (confine), which the test process needs for the
	// namespaces of the tests after this one.
	self, _ := os.Executable()
	cmd := exec.Command(self, "-i", "lo", "--json", "--duration", "100ms")
	cmd.Env = append(os.Environ(), "SSHALIVE_RUN_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), `"type":"summary"`) {
		t.Errorf("a short run: %v\n%s%s", err, out.String(), errb.String())
	}
	var sum struct {
		Interface string `json:"interface"`
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	json.Unmarshal([]byte(lines[len(lines)-1]), &sum)
	if sum.Interface != "lo" {
		t.Errorf("summary %s", lines[len(lines)-1])
	}
}

// TestLiveInterimAndMetrics: --interval writes interim reports (an
// "interim" record, then a "snapshot" per open connection) and
// --metrics-listen serves the Prometheus metrics.
func TestLiveInterimAndMetrics(t *testing.T) {
	n := newLabNS(t, nil, nil)
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--duration", "12s", "--interval", "2s", "--json", "--metrics-listen", "127.0.0.1:9273")
	session := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 5")
	if err := session.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	scrape, err := n.in("bash", "-c",
		`exec 3<>/dev/tcp/127.0.0.1/9273; printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3; timeout 5 cat <&3`).Output()
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	for _, want := range []string{"sshalive_build_info{", "sshalive_connections_tracked 1", `sshalive_capture_packets{counter="dropped_by_kernel"} 0`} {
		if !strings.Contains(string(scrape), want) {
			t.Errorf("metrics lack %q:\n%s", want, scrape)
		}
	}
	session.Wait()
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var interim, snapshots, conns, interimAfter int
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r struct {
			Type   string `json:"type"`
			Client string `json:"client"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		switch r.Type {
		case "interim":
			interim++
			if conns > 0 {
				interimAfter++
			}
		case "snapshot":
			snapshots++
		case "connection":
			conns++
		}
	}
	if interim < 3 || snapshots < 1 || conns != 1 {
		t.Errorf("%d interim, %d snapshot, %d connection records:\n%s", interim, snapshots, conns, stdout)
	}
	// the session ends ~6 s in; its record comes ~2 s later, before the
	// capture's end at 12 s: an interim report follows it
	if interimAfter == 0 {
		t.Errorf("the connection's record came only at the end of the capture:\n%s", stdout)
	}
}

// TestLivePermission: without capture rights, one line says how to fix it.
func TestLivePermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	self, _ := os.Executable()
	asNobody := func(args ...string) *exec.Cmd {
		cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", self}, args...)...)
		cmd.Env = append(os.Environ(), "SSHALIVE_RUN_MAIN=1")
		return cmd
	}
	if out, err := asNobody("--version").CombinedOutput(); err != nil {
		// E.g. a chroot whose root directory nobody may not search.
		t.Skipf("an unprivileged user cannot run the test binary here: %v %s", err, out)
	}
	out, err := asNobody("-i", "lo").CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitError {
		t.Fatalf("exit %v: %s", err, out)
	}
	if !strings.Contains(string(out), "setcap cap_net_raw=ep") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("stderr %q", out)
	}
}
