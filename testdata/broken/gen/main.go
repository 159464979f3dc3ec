// Command gen writes the broken-input corpus in testdata/broken from the
// bundled seed trace testdata/pcaps/seed-serveralive.pcap (one connection,
// 87 packets, 29 client keepalives). It is deterministic; run it from the
// repository root:
//
//	go run ./testdata/broken/gen
//
// Each file is described in testdata/broken/README.md, and
// cmd/sshalive/broken_test.go holds the exit code and message expected of it.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const (
	seedPath = "testdata/pcaps/seed-serveralive.pcap"
	outDir   = "testdata/broken"
)

// record is one pcap record of the seed: header fields and frame.
type record struct {
	sec, usec uint32
	orig      uint32
	data      []byte
}

func main() {
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		fail(err)
	}
	hdr, recs := parse(seed)
	files := map[string][]byte{}
	add := func(name string, b []byte) { files[name] = b }

	// Offsets: the global header is 24 bytes; record i starts at off[i].
	off := make([]int, len(recs)+1)
	off[0] = 24
	for i, r := range recs {
		off[i+1] = off[i] + 16 + len(r.data)
	}
	const mid = 40 // damage lands after 40 good packets (13 probes)

	add("zero-length.pcap", nil)
	add("one-byte.pcap", seed[:1])
	add("cut-global-header.pcap", seed[:13])
	add("wrong-magic.pcap", patch(seed, 0, 0xde, 0xad, 0xbe, 0xef))
	add("pcap-magic-text.pcap", []byte("\xd4\xc3\xb2\xa1 not really a capture\n"))
	add("corrupt-version.pcap", patch(seed, 4, 0x63, 0x00)) // major version 99
	add("corrupt-linktype.pcap", patch(seed, 20, 0xff, 0xff, 0x00, 0x00))
	add("header-only.pcap", seed[:24])
	add("cut-record-header.pcap", seed[:off[mid]+7])
	add("cut-packet-data.pcap", seed[:off[mid]+16+20])
	add("cut-last-byte.pcap", seed[:len(seed)-1])
	add("trailing-garbage.pcap", append(bytes.Clone(seed), "garbage"...))

	// A record that claims 4 GB (capture and original length 0xfffffff0),
	// then the file goes on: nothing may try to allocate it.
	huge := bytes.Clone(seed[:off[mid]])
	huge = binary.LittleEndian.AppendUint32(huge, recs[mid].sec)
	huge = binary.LittleEndian.AppendUint32(huge, recs[mid].usec)
	huge = binary.LittleEndian.AppendUint32(huge, 0xfffffff0)
	huge = binary.LittleEndian.AppendUint32(huge, 0xfffffff0)
	huge = append(huge, seed[off[mid]+16:]...)
	add("huge-record.pcap", huge)
	// The same with the snap length claiming 4 GB too.
	add("huge-record-huge-snaplen.pcap", patch(huge, 16, 0xff, 0xff, 0xff, 0xff))
	// Capture length larger than the original length.
	add("caplen-over-len.pcap", patch(seed, off[mid]+12, 10, 0, 0, 0))
	// Zero-length records in the middle: frames with nothing in them.
	zero := bytes.Clone(seed[:off[mid]])
	for range 3 {
		zero = binary.LittleEndian.AppendUint32(zero, recs[mid].sec)
		zero = binary.LittleEndian.AppendUint32(zero, recs[mid].usec)
		zero = append(zero, make([]byte, 8)...)
	}
	add("zero-length-records.pcap", append(zero, seed[off[mid]:]...))

	// Timestamps: ten packets 1 h in the past in the middle of the trace.
	back := clone(recs)
	for i := mid; i < mid+10; i++ {
		back[i].sec -= 3600
	}
	add("timestamps-backwards.pcap", write(hdr, back))
	// Every packet twice (a capture on both ports of a bridge).
	var dup []record
	for _, r := range recs {
		dup = append(dup, r, r)
	}
	add("duplicate-segments.pcap", write(hdr, dup))
	// Pairs of packets swapped throughout the keepalive part (after the
	// first 10 packets), timestamps kept with their packets.
	ooo := clone(recs)
	for i := 10; i+1 < len(ooo); i += 3 {
		ooo[i], ooo[i+1] = ooo[i+1], ooo[i]
	}
	add("out-of-order.pcap", write(hdr, ooo))
	// Sequence numbers shifted so the client's cross 2^32 half way through
	// the keepalives (and the server's a little later).
	add("seq-wraparound.pcap", write(hdr, wrap(recs, mid)))

	// pcapng: the whole trace, then cut inside the section header, inside
	// the interface description, and inside an enhanced packet block.
	ng := toPcapng(recs)
	add("good.pcapng", ng)
	add("cut-pcapng-section-header.pcapng", ng[:20])
	shb := int(binary.LittleEndian.Uint32(ng[4:8]))
	add("cut-pcapng-interface-block.pcapng", ng[:shb+10])
	add("cut-pcapng-packet-block.pcapng", ng[:len(ng)*45/100])
	// The 40th packet block's length says 2 GB.
	blk := 0
	for range 2 + mid {
		blk += int(binary.LittleEndian.Uint32(ng[blk+4:]))
	}
	add("corrupt-pcapng-block-length.pcapng", patch(ng, blk+4, 0xf0, 0xff, 0xff, 0x7f))

	// gzip: cut mid-stream, a bad CRC in the trailer, garbage inside, and
	// a gzip header with nothing valid after it.
	gz := gzipped(seed)
	add("cut-gzip.pcap.gz", gz[:len(gz)*60/100])
	add("gzip-bad-crc.pcap.gz", patch(gz, len(gz)-8, ^gz[len(gz)-8]))
	r := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	add("gzip-of-garbage.pcap.gz", gzipped(junk))
	add("gzip-header-only.pcap.gz", gz[:10])
	add("gzip-empty.pcap.gz", gzipped(nil))

	for name, b := range files {
		if err := os.WriteFile(filepath.Join(outDir, name), b, 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Printf("wrote %d files to %s\n", len(files), outDir)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}

func patch(b []byte, at int, with ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[at:], with)
	return b
}

func clone(recs []record) []record {
	out := make([]record, len(recs))
	for i, r := range recs {
		out[i] = r
		out[i].data = bytes.Clone(r.data)
	}
	return out
}

// parse splits a little-endian microsecond pcap into header and records.
func parse(b []byte) ([]byte, []record) {
	var recs []record
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, record{
			sec: binary.LittleEndian.Uint32(b[off:]), usec: binary.LittleEndian.Uint32(b[off+4:]),
			orig: binary.LittleEndian.Uint32(b[off+12:]), data: b[off+16 : off+16+n],
		})
		off += 16 + n
	}
	return b[:24], recs
}

func write(hdr []byte, recs []record) []byte {
	out := bytes.Clone(hdr)
	for _, r := range recs {
		out = binary.LittleEndian.AppendUint32(out, r.sec)
		out = binary.LittleEndian.AppendUint32(out, r.usec)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(r.data)))
		out = binary.LittleEndian.AppendUint32(out, r.orig)
		out = append(out, r.data...)
	}
	return out
}

// wrap rewrites TCP sequence and acknowledgment numbers (Ethernet, IPv4) so
// the client's sequence space crosses 2^32 at packet at, and the server's
// 3000 bytes later. Checksums are not fixed: sshalive does not check them.
func wrap(recs []record, at int) []record {
	out := clone(recs)
	var client [4]byte // the end not on port 22
	for _, r := range out {
		if binary.BigEndian.Uint16(r.data[14+20:]) != 22 {
			copy(client[:], r.data[14+12:14+16])
			break
		}
	}
	seqAt := func(i int, fromClient bool) uint32 {
		for ; i < len(out); i++ {
			ip := out[i].data[14:]
			if bytes.Equal(ip[12:16], client[:]) == fromClient {
				return binary.BigEndian.Uint32(ip[20+4:])
			}
		}
		return 0
	}
	dc := -seqAt(at, true) - 10 // client's seq at packet `at` becomes 2^32-10
	ds := -seqAt(at, false) + 3000
	for i := range out {
		tcp := out[i].data[14+20:]
		fromClient := bytes.Equal(out[i].data[14+12:14+16], client[:])
		own, peer := ds, dc
		if fromClient {
			own, peer = dc, ds
		}
		binary.BigEndian.PutUint32(tcp[4:], binary.BigEndian.Uint32(tcp[4:])+own)
		if tcp[13]&0x10 != 0 {
			binary.BigEndian.PutUint32(tcp[8:], binary.BigEndian.Uint32(tcp[8:])+peer)
		}
	}
	return out
}

func toPcapng(recs []record) []byte {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		fail(err)
	}
	for _, r := range recs {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(r.sec), int64(r.usec)*1000), CaptureLength: len(r.data), Length: int(r.orig), InterfaceIndex: 0}
		if err := w.WritePacket(ci, r.data); err != nil {
			fail(err)
		}
	}
	if err := w.Flush(); err != nil {
		fail(err)
	}
	return b.Bytes()
}

func gzipped(b []byte) []byte {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Header.ModTime = time.Unix(0, 0)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}
