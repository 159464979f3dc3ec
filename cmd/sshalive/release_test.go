package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The release engineering (Makefile, packaging/) tested from here, where
// go test ./... runs it.

const repoRoot = "../.."

// TestSystemdUnit: systemd-analyze verify accepts packaging/sshalive.service
// (its ExecStart pointed at an existing executable, man sshalive(1) found in
// a generated page), and the hardening this package promises is there.
// systemd-analyze security's score is logged, not judged.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(repoRoot, "packaging/sshalive.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/bin/sshalive $SSHALIVE_ARGS", "EnvironmentFile=-/etc/default/sshalive",
		"-i any --json --metrics-listen 127.0.0.1:9273", "Restart=on-failure", "MemoryMax=256M",
		"DynamicUser=yes", "AmbientCapabilities=CAP_NET_RAW", "CapabilityBoundingSet=CAP_NET_RAW",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
		"ProtectKernelLogs=yes", "ProtectControlGroups=yes",
		"RestrictAddressFamilies=AF_PACKET AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces=yes",
		"LockPersonality=yes", "MemoryDenyWriteExecute=yes", "SystemCallArchitectures=native",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	exe, err := os.Executable() // any executable stands in for /usr/bin/sshalive
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sshalive.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/bin/sshalive", exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	man := filepath.Join(dir, "man")
	if err := os.MkdirAll(filepath.Join(man, "man1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(man, "man1", "sshalive.1"), []byte(generated(t, "man")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", path)
	cmd.Env = append(os.Environ(), "MANPATH="+man, "SYSTEMD_LOG_COLOR=0")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", path).CombinedOutput()
	if m := regexp.MustCompile(`Overall exposure level for .*`).Find(out); m != nil {
		t.Logf("systemd-analyze security: %s", m)
	} else {
		t.Logf("systemd-analyze security --offline=true: %v\n%s", err, out)
	}
}

// needTools skips a test that runs make and git (slow: it builds).
func needTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds sshalive with make (-short)")
	}
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

func runIn(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestMakeStampsVersion: in a clone of this commit tagged v9.9.9, make build
// makes a binary whose --version says v9.9.9; a modified tree is
// v9.9.9-dirty; the same files outside a git checkout (a tarball, also one
// unpacked inside another repository) are dev. The clone is of HEAD with the
// working tree's Makefile committed on top.
func TestMakeStampsVersion(t *testing.T) {
	needTools(t)
	head := runIn(t, repoRoot, "git", "rev-parse", "HEAD")
	src := filepath.Join(t.TempDir(), "src")
	runIn(t, repoRoot, "git", "clone", "-q", "--no-tags", "--no-checkout", runIn(t, repoRoot, "git", "rev-parse", "--show-toplevel"), src)
	runIn(t, src, "git", "checkout", "-q", "--detach", head)
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "Makefile"), makefile, 0o644); err != nil {
		t.Fatal(err)
	}
	runIn(t, src, "git", "commit", "-q", "--allow-empty", "-m", "the working tree's Makefile", "Makefile")
	runIn(t, src, "git", "tag", "-a", "v9.9.9", "-m", "test release")
	runIn(t, src, "make", "-s", "build")
	if got := runIn(t, src, "bin/sshalive", "--version"); got != "sshalive v9.9.9" {
		t.Errorf("make build; bin/sshalive --version = %q, want %q", got, "sshalive v9.9.9")
	}
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runIn(t, src, "make", "-s", "version"); got != "v9.9.9-dirty" {
		t.Errorf("modified tree: make version = %q, want v9.9.9-dirty", got)
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "tarball"), filepath.Join(src, "unpacked")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		archive := exec.Command("sh", "-c", `git -C "$1" archive HEAD | tar -x -C "$2"`, "sh", src, dir)
		if out, err := archive.CombinedOutput(); err != nil {
			t.Fatalf("git archive: %v\n%s", err, out)
		}
		if got := runIn(t, dir, "make", "-s", "version"); got != "dev" {
			t.Errorf("%s: make version = %q, want dev", dir, got)
		}
	}
}

// TestReleaseStatic: a binary built as make release builds them has no
// program interpreter and no shared libraries, and make release-static
// (which make release runs) passes it and fails a binary built with cgo.
func TestReleaseStatic(t *testing.T) {
	needTools(t)
	dist := t.TempDir()
	bin := filepath.Join(dist, "sshalive-linux-host")
	buildStatic(t, bin, "-trimpath", "-ldflags", "-s -w")
	runIn(t, repoRoot, "make", "-s", "release-static", "DIST="+dist)

	// this test binary: built with cgo unless CGO_ENABLED=0 go test
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("go", "version", "-m", exe).Output(); !strings.Contains(string(out), "CGO_ENABLED=1") {
		return
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "-s", "release-static", "DIST="+dist)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("make release-static passed a cgo binary:\n%s", out)
	}
}

// buildStatic builds sshalive with CGO_ENABLED=0 into bin and checks that
// it is statically linked: no program interpreter, no dynamic section, no
// shared library.
func buildStatic(t *testing.T, bin string, flags ...string) {
	t.Helper()
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header: dynamically linked", bin, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs %v", bin, libs)
	}
}
