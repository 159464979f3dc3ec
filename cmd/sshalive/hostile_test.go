//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sshalive/sshalive/testdata/broken/hostile"
)

// TestHostileInputs runs sshalive, as a process of its own (this test
// binary as sshalive, see TestMain), on files of a few MB that declare or
// decompress to gigabytes: a record or pcapng block of 1 GiB, 1 GiB of
// comments or decryption secrets, 10 000 interface blocks with 64 KB
// options, a gzip bomb. Each is read under an address-space limit (when
// prlimit is there) with a peak resident size of at most 128 MiB; the seed's
// connection around the damage is reported whole; damage read past gets
// one stderr line and exit 3, and harmless bulk exit 0.
func TestHostileInputs(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join(pcapDir, "seed-serveralive.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	lt, pkts := hostile.ReadPcap(seed)
	const at = 40
	without := append(append([]hostile.Packet{}, pkts[:at]...), pkts[at+1:]...)
	tests := []struct {
		name   string
		write  func(io.Writer) error
		code   int
		stderr string // the one stderr line expected ("" for none)
		probes int
	}{
		{"giant-record.pcap.gz", func(w io.Writer) error {
			return hostile.PcapGiantRecord(w, true, lt, pkts, at, hostile.Giant, hostile.Giant)
		}, exitPartial, "giant-record.pcap.gz: skipped 1 packet larger than 262144 bytes (packet 41: 1073741824 bytes)", 29},
		{"giant-record-cut.pcap", func(w io.Writer) error {
			return hostile.PcapGiantRecord(w, false, lt, pkts, at, hostile.Giant, 4<<20)
		}, exitPartial, "giant-record-cut.pcap: after packet 40: file truncated mid-packet", 14},
		{"gzip-bomb.pcap.gz", func(w io.Writer) error {
			return hostile.GzipBomb(w, lt, pkts, at, 16<<20)
		}, exitOK, "1048576 packets could not be decoded (malformed or cut short)", 29},
		{"giant-epb.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, pkts, at, hostile.GiantEPB(true, hostile.Giant))
		}, exitPartial, "giant-epb.pcapng.gz: skipped 1 packet larger than 262144 bytes (packet 41: 1073741824 bytes)", 29},
		{"giant-dsb.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, pkts, at, hostile.GiantDSB(true, hostile.Giant))
		}, exitOK, "", 29},
		{"giant-comment.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, without, at, hostile.GiantComment(true, pkts[at], hostile.Giant))
		}, exitOK, "", 29},
		{"10000-interfaces.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, pkts, at, hostile.ManyIDBs(true, lt, 10000, 65532))
		}, exitOK, "", 29},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			fh, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.write(fh); err != nil {
				t.Fatal(err)
			}
			fh.Close()
			out, stderr, code, peak := sshaliveProcess(t, "-r", path, "--json")
			t.Logf("exit %d, peak RSS %.1f MiB, stderr %q", code, float64(peak)/(1<<20), stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if peak > 128<<20 {
				t.Errorf("peak RSS %.1f MiB, want ≤ 128 MiB", float64(peak)/(1<<20))
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			switch {
			case tt.stderr == "" && stderr != "":
				t.Errorf("stderr %q, want none", stderr)
			case tt.stderr != "" && (len(lines) != 1 || !strings.HasPrefix(lines[0], "sshalive: ") || !strings.Contains(lines[0], tt.stderr)):
				t.Errorf("stderr %q, want one line with %q", stderr, tt.stderr)
			}
			conns, sum := brokenRecords(t, out)
			if len(conns) != 1 || len(conns[0].SSHKeepalives) != 1 || conns[0].SSHKeepalives[0].Probes != tt.probes {
				t.Fatalf("connections %+v, want the seed's with %d probes", conns, tt.probes)
			}
			if tt.code == exitPartial && len(sum.Errors) != 1 {
				t.Errorf("summary errors %q, want one", sum.Errors)
			}
		})
	}
}

// sshaliveProcess runs this test binary as sshalive in a process of its own
// (under an address-space limit of 2 GiB when prlimit is installed: a
// reader that tried to allocate a declared 1 or 4 GiB would die) and
// returns stdout, stderr, the exit code and the peak resident size.
func sshaliveProcess(t *testing.T, args ...string) (string, string, int, int64) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{self}, args...)
	if p, err := exec.LookPath("prlimit"); err == nil {
		argv = append([]string{p, "--as=2147483648", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	peakFile := filepath.Join(t.TempDir(), "peak")
	cmd.Env = append(os.Environ(), "SSHALIVE_RUN_MAIN=1", "GOMAXPROCS=2", "SSHALIVE_PEAK_FILE="+peakFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	// the process's own peak (VmHWM): the child's rusage would count the
	// test process's memory, which its fork shared
	b, err := os.ReadFile(peakFile)
	if err != nil {
		t.Fatalf("peak resident size not written: %v", err)
	}
	peak, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code, peak
}

func init() {
	afterRun = func() {
		f := os.Getenv("SSHALIVE_PEAK_FILE")
		if f == "" {
			return
		}
		status, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(status), "\n") {
			if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				os.WriteFile(f, []byte(strconv.FormatInt(n<<10, 10)), 0o644)
			}
		}
	}
}
