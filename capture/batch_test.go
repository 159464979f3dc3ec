package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
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
	for _, size := range []int{1, 17, 100, 4096, 64 << 10, 1 << 20} {
		if size < 4096 && len(data) > 64<<10 {
			continue // a block per byte of a large file: minutes, for nothing more
		}
		got, end, st, _, ok := readBlocks(t, data, size)
		if ok && (end != wantEnd || !reflect.DeepEqual(st, wantSt) || !reflect.DeepEqual(got, want)) {
			t.Fatalf("%s, blocks of %d bytes: %d packets, end %q, %+v; ReadPacket: %d packets, end %q, %+v",
				name, size, len(got), end, st, len(want), wantEnd, wantSt)
		}
	}
}

// openAt opens data as a file read at offsets too, as OpenFile opens a
// regular file.
func openAt(data []byte) (*File, error) {
	f, err := newFile("-", io.NopCloser(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	f.size = int64(len(data))
	if f.format == "pcap" {
		f.at = bytes.NewReader(data)
	}
	return f, nil
}

// readBlocks reads data as Blocks of size bytes, eight at a time: loaded
// the last first (as if they ran at once, in any order), then settled in
// order. ok is false when data cannot be read in blocks; redone counts
// the blocks whose guessed first record was wrong.
func readBlocks(t testing.TB, data []byte, size int) (pkts []string, end string, st Stats, redone int, ok bool) {
	f, err := openAt(data)
	if err != nil {
		return nil, "", st, 0, false
	}
	defer f.Close()
	b := f.Blocks(size)
	if b == nil {
		return nil, "", st, 0, false
	}
	const window = 8 // blocks in flight, as in the pipeline
	var blks [window]Block
	for base := 0; base < b.Len(); base += window {
		n := min(window, b.Len()-base)
		for k := n - 1; k >= 0; k-- {
			b.Load(&blks[k], base+k)
		}
		for k := range n {
			blk := &blks[k]
			if b.Settle(blk) && !b.Done() {
				redone++
			}
			for _, r := range blk.Recs {
				if r.Len > MaxPacket {
					t.Fatalf("a packet of %d bytes, over MaxPacket", r.Len)
				}
				pkts = append(pkts, fmt.Sprintf("%v %d %d %x", r.CI.Timestamp, r.CI.CaptureLength, r.CI.Length, fnv64(blk.Buf[r.Off:r.Off+r.Len])))
			}
		}
	}
	if !b.Done() {
		t.Fatalf("blocks of %d bytes: not done after the last", size)
	}
	return pkts, b.Err().Error(), f.Stats(), redone, true
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

// TestBlocksGuess: on real captures the guessed first record of a block is
// the right one (a wrong guess costs a second walk on the settling core,
// which is what keeps the reading serial), and Blocks reads them all as
// ReadPacket does (TestReadBatch).
func TestBlocksGuess(t *testing.T) {
	var files []string
	for _, glob := range []string{"../testdata/pcaps/*.pcap", "../testdata/public/*"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	read, blocks, wrong := 0, map[int]int{}, map[int]int{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{4096, 16 << 10, 64 << 10} {
			_, _, _, redone, ok := readBlocks(t, data, size)
			if !ok {
				continue
			}
			if size == 4096 {
				read++
			}
			blocks[size] += (len(data) + size - 1) / size
			wrong[size] += redone
		}
	}
	// Blocks of 4 KiB hold two or three full-size frames, or none of a
	// 12 KB one: the guess needs two headers in a row.
	if read < 50 || blocks[4096] < 1000 || wrong[4096]*10 > blocks[4096] || wrong[16<<10] > 0 || wrong[64<<10] > 0 {
		t.Fatalf("%d files; blocks read and wrong guesses by block size: %v, %v", read, blocks, wrong)
	}
	t.Logf("%d files; blocks read and wrong guesses by block size: %v, %v", read, blocks, wrong)
}

// TestBlocksShrunk: a file cut short between two records after Blocks
// took its size (a rotation script truncating it) ends as ReadPacket sees
// the shorter file: io.EOF after the records before the cut, not a
// truncated record.
func TestBlocksShrunk(t *testing.T) {
	data, err := os.ReadFile("../testdata/pcaps/bulk.pcap")
	if err != nil {
		t.Fatal(err)
	}
	// the end of the 200th record
	off := int64(pcapHeaderLen)
	for range 200 {
		off += 16 + int64(binary.LittleEndian.Uint32(data[off+8:]))
	}
	want, wantEnd, _ := readBoth(t, data[:off], 0, 0)
	name := filepath.Join(t.TempDir(), "shrinks.pcap")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := f.Blocks(4096)
	if err := os.Truncate(name, off); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := 0; k < b.Len(); k++ {
		var blk Block
		b.Load(&blk, k)
		b.Settle(&blk)
		for _, r := range blk.Recs {
			got = append(got, fmt.Sprintf("%v %d %d %x", r.CI.Timestamp, r.CI.CaptureLength, r.CI.Length, fnv64(blk.Buf[r.Off:r.Off+r.Len])))
		}
	}
	if !b.Done() || b.Err().Error() != wantEnd || !reflect.DeepEqual(got, want) || len(got) != 200 {
		t.Fatalf("%d packets, end %v; ReadPacket on the shorter file: %d, %q", len(got), b.Err(), len(want), wantEnd)
	}
}
