package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// split writes the packets of a real capture into files by keep, which
// returns the index of the file a packet goes to.
func split(t *testing.T, src string, n int, keep func(i int, seg *analyze.Segment, ok bool) int) []string {
	t.Helper()
	f, err := capture.OpenFile(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := capture.NewDecoder(f.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := make([]string, n)
	ws := make([]*capture.Writer, n)
	for i := range ws {
		names[i] = filepath.Join(dir, string(rune('a'+i))+".pcap")
		if ws[i], err = capture.CreateFile(names[i], f.LinkType(), 262144); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		data, ci, err := f.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var seg analyze.Segment
		ok := dec.Decode(data, gopacket.CaptureInfo{Timestamp: ci.Timestamp}, &seg)
		if err := ws[keep(i, &seg, ok)].WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// splitByDirection writes a capture's packets to the server (port 22) and
// from it into two files, as two captures of one link, one per direction.
func splitByDirection(t *testing.T, src string) []string {
	t.Helper()
	return split(t, src, 2, func(_ int, seg *analyze.Segment, ok bool) int {
		if ok && seg.Src.Port() == 22 {
			return 1
		}
		return 0
	})
}

// packets counts a capture's packets.
func packets(t *testing.T, name string) int {
	t.Helper()
	f, err := capture.OpenFile(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for ; ; n++ {
		if _, _, err := f.ReadPacket(); err != nil {
			return n
		}
	}
}

// connLines is a --json output without its summary (which names the files).
func connLines(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("no connections in %q", out)
	}
	return strings.Join(lines[:len(lines)-1], "\n")
}

// TestMergedFiles: a real capture split in two by direction (as two
// captures of one link, one per direction, would be) gives, read as two
// files, the connections the whole capture gives: the files overlap in
// time and are merged by it (said on stderr). Split in two by time (a
// rotation), it gives them too, each file read in blocks, without a merge.
func TestMergedFiles(t *testing.T) {
	for _, name := range []string{"clientalive-chacha.pcap", "dropbear-server-idle-keepalive.pcap", "multi.pcap", "both-sides-interleaved.pcap"} {
		src := filepath.Join(pcapDir, name)
		want, _, code := sshalive(t, "-r", src, "--json")
		if code != exitOK {
			t.Fatalf("%s: exit %d", name, code)
		}
		byDir := splitByDirection(t, src)
		got, stderr, code := sshalive(t, "-r", byDir[0], "-r", byDir[1], "--json")
		if code != exitOK || connLines(t, got) != connLines(t, want) || !strings.Contains(stderr, "overlap in time") {
			t.Errorf("%s split by direction: exit %d, stderr %q, connections equal: %v", name, code, stderr, connLines(t, got) == connLines(t, want))
		}
		// the same with a third file of nothing but the first packet again
		// later on would not be the same capture: merged files keep their
		// own errors instead (TestMergedErrors)
		half := packets(t, src) / 2
		byTime := split(t, src, 2, func(i int, _ *analyze.Segment, _ bool) int {
			if i < half {
				return 0
			}
			return 1
		})
		got, stderr, code = sshalive(t, "-r", byTime[1], "-r", byTime[0], "--json")
		if code != exitOK || connLines(t, got) != connLines(t, want) || strings.Contains(stderr, "overlap") || !strings.Contains(stderr, "order of their first packets") {
			t.Errorf("%s split by time: exit %d, stderr %q, connections equal: %v", name, code, stderr, connLines(t, got) == connLines(t, want))
		}
	}
}

// TestMergedErrors: in merged files each keeps its own error (a truncated
// one is named with where it ended, exit 3, and the other's packets are
// still analysed); a gzip'd file, whose end is not known before reading
// it (the client's half, which starts first), is merged with the file
// that starts after it.
func TestMergedErrors(t *testing.T) {
	src := filepath.Join(pcapDir, "clientalive-chacha.pcap")
	want, _, _ := sshalive(t, "-r", src, "--json")
	byDir := splitByDirection(t, src)
	data, err := os.ReadFile(byDir[1])
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(byDir[0])
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(first)
	zw.Close()
	zipped := byDir[0] + ".gz"
	cut := byDir[1] + ".cut"
	if os.WriteFile(zipped, gz.Bytes(), 0o644) != nil || os.WriteFile(cut, data[:len(data)-10], 0o644) != nil {
		t.Fatal("cannot write")
	}
	got, stderr, code := sshalive(t, "-r", byDir[1], "-r", zipped, "--json")
	if code != exitOK || connLines(t, got) != connLines(t, want) || !strings.Contains(stderr, "is not known without reading it") {
		t.Errorf("gzip'd half: exit %d, stderr %q, connections equal: %v", code, stderr, connLines(t, got) == connLines(t, want))
	}
	got, stderr, code = sshalive(t, "-r", byDir[0], "-r", cut, "--json")
	if code != exitPartial || !strings.Contains(stderr, cut+": after packet ") || !strings.Contains(stderr, "file truncated mid-packet") ||
		strings.Contains(stderr, byDir[0]+":") || strings.Count(strings.TrimSpace(got), "\n") < 1 {
		t.Errorf("truncated half: exit %d, stderr %q\n%s", code, stderr, got)
	}
}

// TestAllCapturesAtOnce: every lab capture given at once (several were
// recorded at the same time, in different namespaces, and are merged by
// time) gives each capture's connections, as read alone.
func TestAllCapturesAtOnce(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap"))
	if err != nil || len(files) < 80 {
		t.Fatalf("%d captures: %v", len(files), err)
	}
	var want []string
	for _, f := range files {
		out, _, _ := sshalive(t, "-r", f, "--json")
		want = append(want, conns(out)...)
	}
	args := []string{"--json"}
	for _, f := range files {
		args = append(args, "-r", f)
	}
	out, stderr, code := sshalive(t, args...)
	got := conns(out)
	sort.Strings(want)
	sort.Strings(got)
	if code != exitOK || !strings.Contains(stderr, "overlap in time") || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("exit %d, %d connections, %d read one by one; stderr:\n%s", code, len(got), len(want), stderr)
	}
}

// conns are the connection records of --json output, as text.
func conns(out string) []string {
	var cs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `"type":"connection"`) {
			cs = append(cs, l)
		}
	}
	return cs
}

// TestMergedOversized: a merged file with a record over MaxPacket (read
// past in batches that hold no record) is read on past it, to its end,
// with its own damage named: its later packets were once dropped without
// a word.
func TestMergedOversized(t *testing.T) {
	src := filepath.Join(pcapDir, "clientalive-chacha.pcap")
	want, _, _ := sshalive(t, "-r", src, "--json")
	byDir := splitByDirection(t, src)
	data, err := os.ReadFile(byDir[0])
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(data[16:20], 1<<24) // snap length: 16 MiB
	first := 24 + 16 + int(binary.LittleEndian.Uint32(data[24+8:]))
	big := make([]byte, 16+300000)
	copy(big, data[24:32]) // the first record's timestamp
	binary.LittleEndian.PutUint32(big[8:], 300000)
	binary.LittleEndian.PutUint32(big[12:], 300000)
	patched := append(append(append([]byte{}, data[:first]...), big...), data[first:]...)
	if err := os.WriteFile(byDir[0], patched, 0o644); err != nil {
		t.Fatal(err)
	}
	got, stderr, code := sshalive(t, "-r", byDir[0], "-r", byDir[1], "--json")
	if code != exitPartial || !strings.Contains(stderr, byDir[0]+": skipped 1 packet larger than") || connLines(t, got) != connLines(t, want) {
		t.Errorf("exit %d, stderr %q, connections equal: %v", code, stderr, connLines(t, got) == connLines(t, want))
	}
}
