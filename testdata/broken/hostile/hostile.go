// Package hostile writes hostile capture files for the tests of capture and
// cmd/sshalive: files of a few MB (or KB) that declare, or decompress to,
// gigabytes — a record or pcapng block of 1 GiB, thousands of interface
// blocks with 64 KB options, a gzip bomb. Large runs of bytes are written
// as repeated gzip members (a gzip reader reads concatenated members as
// one stream), so a 1 GiB record costs about 1 MB of file and no memory.
package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
)

// Giant is the size the big shapes declare: 1 GiB.
const Giant = 1 << 30

// Packet is one record: timestamp, frame and original length.
type Packet struct {
	Sec, Usec uint32
	Len       uint32
	Data      []byte
}

// ReadPcap splits a little-endian microsecond pcap into its packets and
// returns its link type.
func ReadPcap(b []byte) (linkType uint32, pkts []Packet) {
	le := binary.LittleEndian
	for off := 24; off+16 <= len(b); {
		n := int(le.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			break
		}
		pkts = append(pkts, Packet{Sec: le.Uint32(b[off:]), Usec: le.Uint32(b[off+4:]), Len: le.Uint32(b[off+12:]), Data: b[off+16 : off+16+n]})
		off += 16 + n
	}
	return le.Uint32(b[20:]), pkts
}

// builder writes a file, gzip'd or not; repeat writes one chunk many times
// (as one gzip member compressed once and repeated, when gzip'd).
type builder struct {
	w   io.Writer
	gz  bool
	buf bytes.Buffer
	err error
}

func (b *builder) put(p ...[]byte) {
	for _, x := range p {
		b.buf.Write(x)
	}
}

func (b *builder) write(p []byte) {
	if b.err == nil {
		_, b.err = b.w.Write(p)
	}
}

func (b *builder) flush() {
	if b.buf.Len() == 0 {
		return
	}
	if b.gz {
		b.write(member(b.buf.Bytes()))
	} else {
		b.write(b.buf.Bytes())
	}
	b.buf.Reset()
}

func (b *builder) repeat(chunk []byte, n int64) {
	b.flush()
	if b.gz {
		chunk = member(chunk)
	}
	for range n {
		b.write(chunk)
	}
}

func (b *builder) close() error {
	b.flush()
	return b.err
}

func member(p []byte) []byte {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(p)
	zw.Close()
	return z.Bytes()
}

// zeros writes n zero bytes (n a multiple of 64 KiB when large).
func (b *builder) zeros(n int64) {
	const chunk = 1 << 20
	b.repeat(make([]byte, chunk), n/chunk)
	b.put(make([]byte, n%chunk))
}

var le = binary.LittleEndian

func pcapHeader(snaplen, linkType uint32) []byte {
	h := le.AppendUint32(nil, 0xa1b2c3d4)
	h = le.AppendUint16(h, 2)
	h = le.AppendUint16(h, 4)
	h = append(h, make([]byte, 8)...)
	h = le.AppendUint32(h, snaplen)
	return le.AppendUint32(h, linkType)
}

func pcapRecord(p Packet) []byte {
	r := le.AppendUint32(nil, p.Sec)
	r = le.AppendUint32(r, p.Usec)
	r = le.AppendUint32(r, uint32(len(p.Data)))
	r = le.AppendUint32(r, p.Len)
	return append(r, p.Data...)
}

// PcapGiantRecord writes a pcap whose header declares snaplen 0xffffffff,
// the packets before at, a record declaring size bytes of which present
// follow (the file ends there when present < size), then, when the record
// is whole, the packets from at on.
func PcapGiantRecord(w io.Writer, gz bool, linkType uint32, pkts []Packet, at int, size, present int64) error {
	b := &builder{w: w, gz: gz}
	b.put(pcapHeader(0xffffffff, linkType))
	for _, p := range pkts[:at] {
		b.put(pcapRecord(p))
	}
	b.put(le.AppendUint32(le.AppendUint32(nil, pkts[at].Sec), pkts[at].Usec))
	b.put(le.AppendUint32(le.AppendUint32(nil, uint32(size)), uint32(size)))
	b.zeros(present)
	if present == size {
		for _, p := range pkts[at:] {
			b.put(pcapRecord(p))
		}
	}
	return b.close()
}

// GzipBomb writes a gzip'd pcap: the packets before at, zeros bytes of
// zeros (empty records stamped 1970, compressing about 1000:1), then the
// packets from at on.
func GzipBomb(w io.Writer, linkType uint32, pkts []Packet, at int, zeros int64) error {
	b := &builder{w: w, gz: true}
	b.put(pcapHeader(262144, linkType))
	for _, p := range pkts[:at] {
		b.put(pcapRecord(p))
	}
	b.zeros(zeros)
	for _, p := range pkts[at:] {
		b.put(pcapRecord(p))
	}
	return b.close()
}

func pad4(n int64) int64 { return (4 - n&3) & 3 }

// block returns a pcapng block's header (type, total length) for a body of
// n bytes; the body and trailer() follow.
func blockHeader(typ uint32, body int64) []byte {
	return le.AppendUint32(le.AppendUint32(nil, typ), uint32(12+body))
}

func trailer(body int64) []byte { return le.AppendUint32(nil, uint32(12+body)) }

func block(typ uint32, body []byte) []byte {
	return append(append(blockHeader(typ, int64(len(body))), body...), trailer(int64(len(body)))...)
}

func shb() []byte {
	body := le.AppendUint32(nil, 0x1a2b3c4d)
	body = le.AppendUint16(body, 1)
	body = le.AppendUint16(body, 0)
	body = le.AppendUint64(body, 0xffffffffffffffff)
	return block(0x0a0d0d0a, body)
}

// IDB is an interface description block with options (raw, ending with
// opt_endofopt when not empty).
func IDB(linkType uint32, snaplen uint32, opts []byte) []byte {
	body := le.AppendUint16(nil, uint16(linkType))
	body = le.AppendUint16(body, 0)
	body = le.AppendUint32(body, snaplen)
	return block(1, append(body, opts...))
}

// Option is one pcapng option, padded.
func Option(code uint16, value []byte) []byte {
	o := le.AppendUint16(le.AppendUint16(nil, code), uint16(len(value)))
	o = append(o, value...)
	return append(o, make([]byte, pad4(int64(len(value))))...)
}

// EndOfOptions is opt_endofopt.
var EndOfOptions = []byte{0, 0, 0, 0}

// EPB is an enhanced packet block of p on interface iface (timestamp in
// microseconds unless ts is not zero).
func EPB(iface uint32, p Packet, ts uint64, opts []byte) []byte {
	return block(6, epbBody(iface, p, ts, opts))
}

func epbBody(iface uint32, p Packet, ts uint64, opts []byte) []byte {
	if ts == 0 {
		ts = uint64(p.Sec)*1e6 + uint64(p.Usec)
	}
	body := le.AppendUint32(nil, iface)
	body = le.AppendUint32(body, uint32(ts>>32))
	body = le.AppendUint32(body, uint32(ts))
	body = le.AppendUint32(body, uint32(len(p.Data)))
	body = le.AppendUint32(body, p.Len)
	body = append(body, p.Data...)
	body = append(body, make([]byte, pad4(int64(len(p.Data))))...)
	return append(body, opts...)
}

// Pcapng writes a pcapng: section header, one interface of linkType, the
// packets before at, middle (raw blocks), the packets from at on.
func Pcapng(w io.Writer, gz bool, linkType uint32, pkts []Packet, at int, middle func(b io.Writer)) error {
	b := &builder{w: w, gz: gz}
	b.put(shb(), IDB(linkType, 262144, nil))
	for _, p := range pkts[:at] {
		b.put(EPB(0, p, 0, nil))
	}
	b.flush()
	if middle != nil {
		middle(b.w)
	}
	for _, p := range pkts[at:] {
		b.put(EPB(0, p, 0, nil))
	}
	return b.close()
}

// Middle returns a Pcapng middle that writes a block of type typ whose body
// is head, then size bytes of chunk repeated, then tail (gzip'd when gz).
func Middle(gz bool, typ uint32, head []byte, chunk []byte, size int64, tail []byte) func(io.Writer) {
	return func(w io.Writer) {
		body := int64(len(head)) + size + int64(len(tail))
		b := &builder{w: w, gz: gz}
		b.put(blockHeader(typ, body), head)
		b.repeat(chunk, size/int64(len(chunk)))
		b.put(tail, trailer(body))
		b.close()
	}
}

// GiantEPB is a Middle: an enhanced packet block holding a size-byte
// packet of zeros.
func GiantEPB(gz bool, size int64) func(io.Writer) {
	head := epbBody(0, Packet{Sec: 1, Len: uint32(size)}, 0, nil)
	le.PutUint32(head[12:], uint32(size))
	return Middle(gz, 6, head, make([]byte, 1<<20), size, nil)
}

// GiantDSB is a Middle: a decryption secrets block (TLS key log) of size
// bytes.
func GiantDSB(gz bool, size int64) func(io.Writer) {
	head := le.AppendUint32(le.AppendUint32(nil, 0x544c534b), uint32(size))
	return Middle(gz, 10, head, bytes.Repeat([]byte("CLIENT_RANDOM 00\n"), 1<<16)[:1<<20], size, nil)
}

// GiantComment is a Middle: an enhanced packet block holding p whose
// options are size bytes of 64 KB comments.
func GiantComment(gz bool, p Packet, size int64) func(io.Writer) {
	var chunk []byte
	for range 16 {
		chunk = append(chunk, Option(1, bytes.Repeat([]byte{'c'}, 65532))...)
	}
	return Middle(gz, 6, epbBody(0, p, 0, nil), chunk, size, EndOfOptions)
}

// ManyIDBs is a Middle: n interface descriptions of linkType, each with a
// comment of optLen bytes.
func ManyIDBs(gz bool, linkType uint32, n int64, optLen int) func(io.Writer) {
	return func(w io.Writer) {
		b := &builder{w: w, gz: gz}
		idb := IDB(linkType, 262144, append(Option(1, bytes.Repeat([]byte{'i'}, optLen)), EndOfOptions...))
		per := max(1, (1<<20)/len(idb))
		b.repeat(bytes.Repeat(idb, per), n/int64(per))
		for range n % int64(per) {
			b.put(idb)
		}
		b.close()
	}
}

// Raw is a Middle that writes blocks as they are.
func Raw(blocks ...[]byte) func(io.Writer) {
	return func(w io.Writer) {
		for _, b := range blocks {
			w.Write(b)
		}
	}
}
