//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statusOf reads the fields of /proc/PID/status of a running process.
func statusOf(t *testing.T, cmd *exec.Cmd) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	return st
}

// checkConfined: once sshalive says it captures, it holds no capability
// in any set, no_new_privs is on, and it runs as uid (all four ids); the
// bounding set is empty too when it started with the right to empty it.
func checkConfined(t *testing.T, cmd *exec.Cmd, uid string, bounding bool) {
	t.Helper()
	st := statusOf(t, cmd)
	const none = "0000000000000000"
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
		if st[k] != none {
			t.Errorf("%s %s while capturing, want none", k, st[k])
		}
	}
	if bounding && st["CapBnd"] != none {
		t.Errorf("CapBnd %s while capturing, want none", st["CapBnd"])
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs %q", st["NoNewPrivs"])
	}
	if want := strings.Repeat(uid+"\t", 3) + uid; st["Uid"] != want {
		t.Errorf("Uid %q, want %q", st["Uid"], want)
	}
}

// TestLiveConfined: as root without -Z, sshalive keeps root's uid but
// gives up every capability once the socket is open.
func TestLiveConfined(t *testing.T) {
	n := newLabNS(t, nil, nil)
	cmd, _, stderr := n.sshalive("-i", "lo", "--duration", "2s", "--json")
	checkConfined(t, cmd, "0", true)
	if code := waitExit(t, cmd, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestLiveFileCapabilities: the README's setcap deployment. A copy of the
// binary with cap_net_raw=ep, run by nobody, captures a real session's
// probes, holds no capability while it parses packets, accepts -Z for
// the user it already is, and says in one line why it cannot become
// another.
func TestLiveFileCapabilities(t *testing.T) {
	n := newLabNS(t, nil, nil)
	for _, bin := range []string{"setcap", "setpriv"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	bin := copyForNobody(t)
	if out, err := exec.Command("setcap", "cap_net_raw=ep", bin).CombinedOutput(); err != nil {
		t.Skipf("setcap: %v %s (a filesystem without extended attributes?)", err, out)
	}
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin}
	asSshalive := func(args ...string) *exec.Cmd {
		cmd := n.in(append(asNobody, args...)...)
		cmd.Env = append(os.Environ(), "SSHALIVE_RUN_MAIN=1")
		return cmd
	}
	if out, err := asSshalive("--version").CombinedOutput(); err != nil {
		t.Skipf("nobody cannot run the copy here: %v %s", err, out)
	}
	cmd, stdout, stderr := n.start(append(asNobody, "-i", "lo", "-Z", "nobody", "--duration", "6s", "--json")...)
	checkConfined(t, cmd, "65534", false)
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 3").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := oneConn(t, stdout.String())
	if len(c.SSHKeepalives) != 1 || c.SSHKeepalives[0].Sender != "client" || c.SSHKeepalives[0].Probes < 2 {
		t.Errorf("keepalives %+v", c.SSHKeepalives)
	}
	out, err := asSshalive("-i", "lo", "-Z", "root", "--duration", "1s").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError ||
		!strings.Contains(string(out), "-Z root: changing user needs root") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("-Z root as nobody: %v %q", err, out)
	}
}

// copyForNobody copies this test binary where the user nobody can run it.
func copyForNobody(t *testing.T) string {
	t.Helper()
	needSearchableRoot(t)
	dir, err := os.MkdirTemp("", "sshalive-caps")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	self, _ := os.Executable()
	raw, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sshalive")
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	return bin
}

// TestLiveServiceCapabilities: the systemd unit's deployment, made with
// setpriv (there is no systemd here): a user of its own, CAP_NET_RAW as an
// ambient capability and the only one in the bounding set, no_new_privs
// already set. sshalive captures a real session's probes and holds no
// capability while it parses them. (The unit's seccomp filter allows
// capset for this: packaging/sshalive.service.)
func TestLiveServiceCapabilities(t *testing.T) {
	n := newLabNS(t, nil, nil)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv not installed")
	}
	bin := copyForNobody(t)
	service := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+net_raw",
		"--ambient-caps=+net_raw", "--bounding-set=-all,+net_raw", "--no-new-privs", bin}
	cmd, stdout, stderr := n.start(append(service, "-i", "any", "--duration", "6s", "--json")...)
	checkConfined(t, cmd, "65534", false)
	if st := statusOf(t, cmd); st["CapBnd"] != "0000000000002000" {
		t.Errorf("CapBnd %s, want CAP_NET_RAW alone (the unit's CapabilityBoundingSet)", st["CapBnd"])
	}
	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1"}, "sleep 3").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if c := oneConn(t, stdout.String()); len(c.SSHKeepalives) != 1 || c.SSHKeepalives[0].Probes < 2 {
		t.Errorf("keepalives %+v", c.SSHKeepalives)
	}
}

// needSearchableRoot skips a test that runs a process as nobody where
// nobody cannot search the root directory: a chroot made in a mktemp -d
// directory (mode 0700), as ../shared/tools/fresh-machine-check makes,
// where such a process can open no absolute path at all — not its
// libraries, not /proc.
func needSearchableRoot(t *testing.T) {
	t.Helper()
	if st, err := os.Stat("/"); err == nil && st.Mode().Perm()&0o001 == 0 {
		t.Skipf("the root directory is mode %v: a process switched to nobody could open nothing here", st.Mode().Perm())
	}
}
