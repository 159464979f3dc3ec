package capture

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// readBoth reads data packet by packet (ReadPacket) or in batches
// (ReadBatch with the limits given) and returns every packet with its
// capture info, the final error and the reader's stats, as text.
func readBoth(t testing.TB, data []byte, maxRecs, maxBytes int) (pkts []string, end string, st Stats) {
	f, err := OpenFile("-", bytes.NewReader(data))
	if err != nil {
		return nil, "open: " + err.Error(), st
	}
	defer f.Close()
	var buf []byte
	var recs []Record
	for i := 0; i < 1<<17; i++ {
		if maxRecs == 0 {
			pkt, ci, err := f.ReadPacket()
			if err != nil {
				return pkts, err.Error(), f.Stats()
			}
			pkts = append(pkts, fmt.Sprintf("%v %d %d %x", ci.Timestamp, ci.CaptureLength, ci.Length, fnv64(pkt)))
			continue
		}
		buf, recs, err = f.ReadBatch(buf[:0], recs[:0], maxRecs, maxBytes)
		if len(recs) > maxRecs {
			t.Fatalf("%d records, over %d", len(recs), maxRecs)
		}
		for _, r := range recs {
			if r.Len > MaxPacket {
				t.Fatalf("a packet of %d bytes, over MaxPacket", r.Len)
			}
			pkts = append(pkts, fmt.Sprintf("%v %d %d %x", r.CI.Timestamp, r.CI.CaptureLength, r.CI.Length, fnv64(buf[r.Off:r.Off+r.Len])))
		}
		if err != nil {
			return pkts, err.Error(), f.Stats()
		}
	}
	return pkts, "no end", f.Stats()
}

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// sameAsReadPacket fails unless batches of every size give what
// ReadPacket gives: the same packets, the same error, the same stats.
func sameAsReadPacket(t *testing.T, name string, data []byte) {
	t.Helper()
	want, wantEnd, wantSt := readBoth(t, data, 0, 0)
	for _, lim := range [][2]int{{1, 1 << 18}, {7, 100}, {1024, 4096}, {1024, 256 << 10}, {1 << 20, 1 << 20}} {
		got, end, st := readBoth(t, data, lim[0], lim[1])
		if end != wantEnd || !reflect.DeepEqual(st, wantSt) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s, batches of %d records, %d bytes: %d packets, end %q, %+v; ReadPacket: %d packets, end %q, %+v",
				name, lim[0], lim[1], len(got), end, st, len(want), wantEnd, wantSt)
		}
	}
}

// TestReadBatch: ReadBatch reads every bundled capture, damaged file and
// hostile input exactly as ReadPacket does.
func TestReadBatch(t *testing.T) {
	var files []string
	for _, glob := range []string{"../testdata/pcaps/*.pcap*", "../testdata/broken/*", "../testdata/public/*"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("only %d test files", len(files))
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue // a directory
		}
		sameAsReadPacket(t, name, data)
	}
	for i, seed := range hostileSeeds(t) {
		sameAsReadPacket(t, fmt.Sprintf("hostile seed %d", i), seed)
	}
}
