//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// frames writes Ethernet/IPv4/TCP frames to a pcap, built by hand (the
// fields sshalive reads; checksums left zero).
type frames struct {
	w   *pcapgo.Writer
	at  time.Time
	buf []byte
	err error
}

func (f *frames) tcp(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, payload []byte) {
	if f.err != nil {
		return
	}
	b := f.buf[:0]
	b = append(b, make([]byte, 12)...)
	b = append(b, 0x08, 0x00)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(40+len(payload)))
	b = append(b, 0, 0, 0x40, 0, 64, 6, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0)
	b = append(b, payload...)
	f.buf = b
	f.err = f.w.WritePacket(gopacket.CaptureInfo{Timestamp: f.at, CaptureLength: len(b), Length: len(b)}, b)
}

func writeFrames(t *testing.T, path string, gen func(f *frames)) {
	t.Helper()
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	f := &frames{w: w, at: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	gen(f)
	if f.err == nil {
		f.err = bw.Flush()
	}
	if err := fh.Close(); f.err == nil {
		f.err = err
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
}

const (
	flagSYN = 0x02
	flagPSH = 0x08
	flagACK = 0x10
)

var hostileServer = [4]byte{198, 18, 0, 2}

func hostileClient(i int) [4]byte { return [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)} }

// open writes connection i's SYN and SYN/ACK a millisecond after the last
// and returns its client and the client's next sequence number.
func (f *frames) open(i int) ([4]byte, uint32) {
	c := hostileClient(i)
	f.at = f.at.Add(time.Millisecond)
	f.tcp(c, hostileServer, 40000, 22, 99, 0, flagSYN, nil)
	f.tcp(hostileServer, c, 22, 40000, 499, 100, flagSYN|flagACK, nil)
	return c, 100
}

// TestHostileTraffic runs sshalive as a process of its own on traffic a
// hostile network can send, each case from the security review, with its
// peak resident size asserted: 10 000 connections each holding an
// unfinished 35 KB clear-text packet (1.2 GiB before the handshake
// budget), 10 000 8 KB banners without a newline (363 MiB), one connection
// of a million probe-sized messages (308 MiB), and a million SYNs filling
// the default table (870 MiB; the ceiling 320 MiB), which is no
// SSH traffic (exit 1).
func TestHostileTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~600 MB of captures")
	}
	dir := t.TempDir()
	if d := os.Getenv("HOSTILE_DIR"); d != "" {
		dir = d
	}
	banner := []byte("SSH-2.0-x\r\n")
	seg := make([]byte, 1400)
	tests := []struct {
		name  string
		gen   func(f *frames)
		peak  int64
		conns int
		code  int
	}{
		{"10000-unfinished-35k", func(f *frames) {
			head := binary.BigEndian.AppendUint32(append([]byte{}, banner...), 34990)
			head = append(head, 4, 20)
			for i := range 10000 {
				c, seq := f.open(i)
				for k := range 25 {
					p := seg
					if k == 0 {
						p = append(append([]byte{}, head...), seg[len(head):]...)
					}
					f.tcp(c, hostileServer, 40000, 22, seq, 500, flagACK|flagPSH, p)
					seq += uint32(len(p))
				}
			}
		}, 128 << 20, 10000, exitOK},
		{"10000-banners-8k", func(f *frames) {
			junk := make([]byte, 1400)
			for i := range junk {
				junk[i] = 'A'
			}
			for i := range 10000 {
				c, seq := f.open(i)
				for k := range 6 {
					p := junk
					if k == 0 {
						p = append([]byte("SSH-2.0-"), junk[8:]...)
					}
					f.tcp(c, hostileServer, 40000, 22, seq, 500, flagACK|flagPSH, p)
					seq += uint32(len(p))
				}
			}
		}, 128 << 20, 10000, exitOK},
		{"million-probes", func(f *frames) {
			c := hostileClient(1)
			cs, ss := uint32(1000), uint32(5000)
			for range 1000000 {
				f.at = f.at.Add(time.Second)
				f.tcp(c, hostileServer, 40000, 22, cs, ss, flagACK|flagPSH, seg[:52])
				cs += 52
				f.at = f.at.Add(time.Millisecond)
				f.tcp(hostileServer, c, 22, 40000, ss, cs, flagACK|flagPSH, seg[:28])
				ss += 28
				f.at = f.at.Add(-time.Millisecond)
			}
		}, 128 << 20, 1, exitOK},
		{"million-syns", func(f *frames) {
			for i := range 1000000 {
				c := hostileClient(i)
				f.at = f.at.Add(30 * time.Microsecond)
				f.tcp(c, hostileServer, uint16(1024+i%60000), 22, uint32(i), 0, flagSYN, nil)
			}
		}, 320 << 20, 0, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".pcap")
			writeFrames(t, path, tt.gen)
			if os.Getenv("HOSTILE_DIR") == "" {
				defer os.Remove(path)
			}
			start := time.Now()
			out, stderr, code, peak := sshaliveProcess(t, "-r", path, "--json")
			t.Logf("exit %d, peak RSS %.1f MiB, %.1f s, stderr %q", code, float64(peak)/(1<<20), time.Since(start).Seconds(), stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if peak > tt.peak {
				t.Errorf("peak RSS %.1f MiB, want ≤ %d MiB", float64(peak)/(1<<20), tt.peak>>20)
			}
			if conns, _ := brokenRecords(t, out); len(conns) != tt.conns {
				t.Errorf("%d connections reported, want %d", len(conns), tt.conns)
			}
		})
	}
}
