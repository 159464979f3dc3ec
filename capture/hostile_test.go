package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/testdata/broken/hostile"
)

// seedPackets are the packets of the bundled seed trace, split at
// hostileAt by the damage.
func seedPackets(t testing.TB) (uint32, []hostile.Packet) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "pcaps", "seed-serveralive.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	return hostile.ReadPcap(b)
}

const hostileAt = 40

// writeHostile writes one hostile file into a temporary directory.
func writeHostile(t testing.TB, name string, write func(io.Writer) error) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(fh); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads a file to its end and returns the packets read, the final
// stats, the bytes allocated meanwhile and the final error.
func readAll(t *testing.T, path string) (n int, st Stats, alloc uint64, last error) {
	t.Helper()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f, err := OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for {
		if _, _, err := f.ReadPacket(); err != nil {
			last = err
			break
		}
		n++
	}
	if _, _, err := f.ReadPacket(); err != io.EOF {
		t.Errorf("read after the end: %v, want io.EOF", err)
	}
	runtime.ReadMemStats(&m1)
	return n, f.Stats(), m1.TotalAlloc - m0.TotalAlloc, last
}

// TestHostileFiles: files of a few MB that declare or decompress to
// gigabytes are read in bounded memory; the packets around the damage are
// all read, and the damage is counted and said once at the end.
func TestHostileFiles(t *testing.T) {
	lt, pkts := seedPackets(t)
	n := len(pkts)
	without := append(append([]hostile.Packet{}, pkts[:hostileAt]...), pkts[hostileAt+1:]...)
	tests := []struct {
		name    string
		write   func(io.Writer) error
		packets int
		err     error  // nil: io.EOF
		errPart string // in the final error
		check   func(Stats) bool
	}{
		{"pcap-giant-record.pcap.gz", func(w io.Writer) error {
			return hostile.PcapGiantRecord(w, true, lt, pkts, hostileAt, hostile.Giant, hostile.Giant)
		}, n, ErrDamaged, "skipped 1 packet larger than 262144 bytes (packet 41: 1073741824 bytes)",
			func(s Stats) bool { return s.Oversized == 1 }},
		{"pcap-giant-record-cut.pcap", func(w io.Writer) error {
			return hostile.PcapGiantRecord(w, false, lt, pkts, hostileAt, hostile.Giant, 4<<20)
		}, hostileAt, ErrTruncated, "after packet 40: file truncated mid-packet", func(s Stats) bool { return s.Oversized == 0 }},
		{"gzip-bomb.pcap.gz", func(w io.Writer) error {
			return hostile.GzipBomb(w, lt, pkts, hostileAt, 16<<20)
		}, n + 16<<20/16, nil, "", func(s Stats) bool { return s == Stats{} }},
		{"ng-giant-epb.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, pkts, hostileAt, hostile.GiantEPB(true, hostile.Giant))
		}, n, ErrDamaged, "skipped 1 packet larger than 262144 bytes (packet 41: 1073741824 bytes)",
			func(s Stats) bool { return s.Oversized == 1 && s.Interfaces == 1 }},
		{"ng-giant-epb-cut.pcapng", func(w io.Writer) error {
			epb := hostile.EPB(0, hostile.Packet{Sec: 1, Len: hostile.Giant, Data: make([]byte, 4<<20)}, 0, nil)
			binary.LittleEndian.PutUint32(epb[4:], hostile.Giant+32)
			binary.LittleEndian.PutUint32(epb[20:], hostile.Giant)
			return hostile.Pcapng(w, false, lt, pkts[:hostileAt], hostileAt, hostile.Raw(epb[:28+4<<20]))
		}, hostileAt, ErrTruncated, "after packet 40: file truncated mid-packet", nil},
		{"ng-giant-dsb.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, pkts, hostileAt, hostile.GiantDSB(true, hostile.Giant))
		}, n, nil, "", func(s Stats) bool { return s.SkippedBlocks == 1 && s.Oversized == 0 }},
		{"ng-giant-comment.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, without, hostileAt, hostile.GiantComment(true, pkts[hostileAt], hostile.Giant))
		}, n, nil, "", func(s Stats) bool { return s == Stats{Interfaces: 1} }},
		{"ng-10000-interfaces.pcapng.gz", func(w io.Writer) error {
			return hostile.Pcapng(w, true, lt, pkts, hostileAt, hostile.ManyIDBs(true, lt, 10000, 65532))
		}, n, nil, "", func(s Stats) bool { return s == Stats{Interfaces: 10001} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeHostile(t, tt.name, tt.write)
			fi, _ := os.Stat(path)
			start := time.Now()
			got, st, alloc, err := readAll(t, path)
			t.Logf("%d bytes of file: %d packets in %v, %.1f MiB allocated; %v", fi.Size(), got, time.Since(start).Round(time.Millisecond), float64(alloc)/(1<<20), err)
			if got != tt.packets {
				t.Errorf("%d packets, want %d", got, tt.packets)
			}
			switch {
			case tt.err == nil && err != io.EOF:
				t.Errorf("err %v, want io.EOF", err)
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Errorf("err %v, want %v", err, tt.err)
			case tt.err != nil && !strings.Contains(err.Error(), tt.errPart):
				t.Errorf("err %q lacks %q", err, tt.errPart)
			}
			if tt.check != nil && !tt.check(st) {
				t.Errorf("stats %+v", st)
			}
			if alloc > 16<<20 {
				t.Errorf("%.1f MiB allocated reading it, want < 16 MiB", float64(alloc)/(1<<20))
			}
		})
	}
}

// TestHostileInterfaces: pcapng packets of interfaces beyond MaxInterfaces
// or of another link type than the first interface's are counted and read
// past; timestamps before 1970 (a negative if_tsoffset) or after 9999 are
// counted and replaced by the previous packet's.
func TestHostileInterfaces(t *testing.T) {
	lt, pkts := seedPackets(t)
	p := pkts[hostileAt]
	early := -int64(1) << 40
	offset := hostile.Option(14, binary.LittleEndian.AppendUint64(nil, uint64(early)))
	var many [][]byte
	for range MaxInterfaces + 5 {
		many = append(many, hostile.IDB(lt, 262144, nil))
	}
	middle := [][]byte{
		hostile.IDB(lt, 262144, append(offset, hostile.EndOfOptions...)), // interface 1: 2^40 s early
		hostile.EPB(1, p, 0, nil),      // before 1970
		hostile.EPB(0, p, 1<<62, nil),  // after 9999
		hostile.IDB(113, 262144, nil),  // interface 2: Linux SLL
		hostile.EPB(2, p, 0, nil),      // another link type
		hostile.EPB(0, p, 0, []byte{}), // fine
	}
	middle = append(middle, many...)
	middle = append(middle, hostile.EPB(uint32(3+MaxInterfaces), p, 0, nil)) // beyond the cap
	path := writeHostile(t, "interfaces.pcapng", func(w io.Writer) error {
		return hostile.Pcapng(w, false, lt, pkts, hostileAt, hostile.Raw(middle...))
	})
	f, err := OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var times []time.Time
	for {
		_, ci, err := f.ReadPacket()
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("final error %v, want ErrDamaged", err)
			}
			for _, part := range []string{"skipped 1 packet of interfaces beyond the first 1024", "skipped 1 packet of interfaces whose link type is not the first interface's (Ethernet)", "2 timestamps before 1970 or after 9999 replaced by the previous packet's"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("final error %q lacks %q", err, part)
				}
			}
			break
		}
		times = append(times, ci.Timestamp)
	}
	want := Stats{BadTimestamps: 2, OtherInterface: 1, OtherLinkType: 1, Interfaces: int64(3 + MaxInterfaces + 5)}
	if st := f.Stats(); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if len(times) != len(pkts)+3 {
		t.Fatalf("%d packets, want %d", len(times), len(pkts)+3)
	}
	before := times[hostileAt-1]
	if !times[hostileAt].Equal(before) || !times[hostileAt+1].Equal(before) {
		t.Errorf("bad timestamps became %v and %v, want the previous packet's %v", times[hostileAt], times[hostileAt+1], before)
	}
	if at := time.Unix(int64(p.Sec), int64(p.Usec)*1000); !times[hostileAt+2].Equal(at) {
		t.Errorf("the good packet's time %v, want %v", times[hostileAt+2], at)
	}
}

// hostileSeeds are FuzzReadFile seeds of the hostile shapes, small: records
// and blocks declaring 1 GiB cut after a few bytes, or whole at 1 MiB (over
// MaxPacket), gzip'd; a gzip bomb; interface blocks with 64 KB options.
func hostileSeeds(t testing.TB) [][]byte {
	lt, pkts := seedPackets(t)
	pkts = pkts[:4]
	const at, mib = 2, 1 << 20
	var out [][]byte
	add := func(write func(w io.Writer) error) {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	add(func(w io.Writer) error { return hostile.PcapGiantRecord(w, true, lt, pkts, at, mib, mib) })
	add(func(w io.Writer) error { return hostile.PcapGiantRecord(w, false, lt, pkts, at, hostile.Giant, 64) })
	add(func(w io.Writer) error { return hostile.GzipBomb(w, lt, pkts, at, 64<<10) })
	add(func(w io.Writer) error { return hostile.Pcapng(w, true, lt, pkts, at, hostile.GiantEPB(true, mib)) })
	add(func(w io.Writer) error { return hostile.Pcapng(w, true, lt, pkts, at, hostile.GiantDSB(true, mib)) })
	add(func(w io.Writer) error {
		return hostile.Pcapng(w, true, lt, pkts, at, hostile.GiantComment(true, pkts[at], mib))
	})
	add(func(w io.Writer) error {
		return hostile.Pcapng(w, true, lt, pkts, at, hostile.ManyIDBs(true, lt, 20, 65532))
	})
	add(func(w io.Writer) error {
		epb := hostile.EPB(0, hostile.Packet{Data: make([]byte, 64)}, 1<<62, nil)
		binary.LittleEndian.PutUint32(epb[4:], hostile.Giant+32)
		binary.LittleEndian.PutUint32(epb[20:], hostile.Giant)
		return hostile.Pcapng(w, false, lt, pkts[:at], at, hostile.Raw(epb))
	})
	return out
}

// TestPcapBadFraction: a pcap timestamp whose fraction is a second or more
// is counted and replaced by the previous packet's.
func TestPcapBadFraction(t *testing.T) {
	lt, pkts := seedPackets(t)
	pkts = append([]hostile.Packet{}, pkts[:3]...)
	pkts[1].Usec = 2_000_000
	var b bytes.Buffer
	if err := hostile.GzipBomb(&b, lt, pkts, 3, 0); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile("-", &b)
	if err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	for {
		_, ci, err := f.ReadPacket()
		if err != nil {
			if !errors.Is(err, ErrDamaged) || err.Error() != "1 timestamp before 1970 or after 9999 replaced by the previous packet's" {
				t.Errorf("final error %v", err)
			}
			break
		}
		times = append(times, ci.Timestamp)
	}
	if len(times) != 3 || !times[1].Equal(times[0]) || f.Stats().BadTimestamps != 1 {
		t.Errorf("times %v, stats %+v", times, f.Stats())
	}
}
