package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// pcapng block types read; any other block (decryption secrets, interface
// statistics, name resolution, custom, ...) is read past unparsed.
const (
	ngSectionHeader   = 0x0a0d0d0a
	ngInterface       = 1
	ngObsoletePacket  = 2
	ngSimplePacket    = 3
	ngEnhancedPacket  = 6
	ngByteOrderMagic  = 0x1a2b3c4d
	ngOptEnd          = 0
	ngOptTSResolution = 9
	ngOptTSOffset     = 14
)

// ngIface is what sshalive keeps of an interface description block.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	units   uint64 // timestamp units per second
	offset  int64  // seconds added to every timestamp
}

// ngReader reads pcapng: section headers in both byte orders, interface
// descriptions (link type, snap length, timestamp resolution and offset;
// at most MaxInterfaces remembered per section), enhanced, simple and
// obsolete packet blocks. No block is ever held whole: fixed headers are
// read into a small array, packet data (at most MaxPacket bytes) into one
// buffer, and everything else (options, other blocks, oversized packets)
// is read past through bufio's buffer. A packet is returned only once its
// block has been read to the end and its trailing length checked.
type ngReader struct {
	br     *bufio.Reader
	order  binary.ByteOrder
	ifaces []ngIface
	nIface int   // interfaces declared in this section, remembered or not
	left   int64 // bytes of the current block not read yet, trailer included
	total  uint32
	first  layers.LinkType
	hdr    [20]byte
	st     *readState
}

func newNgReader(br *bufio.Reader, st *readState) (*ngReader, error) {
	r := &ngReader{br: br, st: st}
	// Read up to the first interface description: its link type is the
	// file's.
	for len(r.ifaces) == 0 {
		typ, err := r.blockHeader()
		if err != nil {
			return nil, unexpected(err)
		}
		if r.order == nil && typ != ngSectionHeader {
			return nil, errors.New("no section header block")
		}
		switch typ {
		case ngSectionHeader, ngInterface:
			err = r.block(typ)
		case ngEnhancedPacket, ngSimplePacket, ngObsoletePacket:
			err = errors.New("a section must have an interface before a packet block")
		default:
			err = r.finish()
		}
		if err != nil {
			return nil, err
		}
	}
	r.first = r.ifaces[0].link
	return r, nil
}

func (r *ngReader) linkType() layers.LinkType { return r.first }

// blockHeader reads a block's type and length (and, for a section header,
// its byte order). r.left is what follows.
func (r *ngReader) blockHeader() (uint32, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:8]); err != nil {
		return 0, err
	}
	typ := binary.LittleEndian.Uint32(r.hdr[:4])
	if typ == ngSectionHeader {
		if _, err := io.ReadFull(r.br, r.hdr[8:12]); err != nil {
			return 0, unexpected(err)
		}
		switch binary.LittleEndian.Uint32(r.hdr[8:12]) {
		case ngByteOrderMagic:
			r.order = binary.LittleEndian
		case bits.ReverseBytes32(ngByteOrderMagic):
			r.order = binary.BigEndian
		default:
			return 0, errors.New("wrong byte order value in section header")
		}
	} else if r.order != nil {
		typ = r.order.Uint32(r.hdr[:4])
	}
	if r.order == nil {
		return typ, nil
	}
	r.total = r.order.Uint32(r.hdr[4:8])
	if r.total < 12 || r.total%4 != 0 || typ == ngSectionHeader && r.total < 28 {
		return 0, fmt.Errorf("corrupt pcapng block: type %#x, length %d", typ, r.total)
	}
	r.left = int64(r.total) - 8
	if typ == ngSectionHeader {
		r.left -= 4
	}
	return typ, nil
}

// read fills p from the current block's body.
func (r *ngReader) read(p []byte) error {
	if int64(len(p)) > r.left-4 {
		return fmt.Errorf("corrupt pcapng block: length %d too short", r.total)
	}
	r.left -= int64(len(p))
	_, err := io.ReadFull(r.br, p)
	return unexpected(err)
}

// skip reads past n bytes of the current block's body.
func (r *ngReader) skip(n int64) error {
	if n > r.left-4 {
		return fmt.Errorf("corrupt pcapng block: length %d too short", r.total)
	}
	r.left -= n
	return discard(r.br, n)
}

// finish reads past the rest of the block and checks its trailing length.
func (r *ngReader) finish() error {
	if err := discard(r.br, r.left-4); err != nil {
		return err
	}
	r.left = 0
	var t [4]byte
	if _, err := io.ReadFull(r.br, t[:]); err != nil {
		return unexpected(err)
	}
	if got := r.order.Uint32(t[:]); got != r.total {
		return fmt.Errorf("corrupt pcapng block: length %d at its start, %d at its end", r.total, got)
	}
	return nil
}

// block reads a section header or interface description to its end.
func (r *ngReader) block(typ uint32) error {
	switch typ {
	case ngSectionHeader:
		if err := r.read(r.hdr[:4]); err != nil {
			return err
		}
		if v := r.order.Uint16(r.hdr[:2]); v != 1 {
			return fmt.Errorf("unknown pcapng major version %d", v)
		}
		r.ifaces, r.nIface = r.ifaces[:0], 0
	case ngInterface:
		if err := r.iface(); err != nil {
			return err
		}
	default:
		r.st.Stats.SkippedBlocks++
	}
	return r.finish()
}

// iface reads an interface description up to its options' end.
func (r *ngReader) iface() error {
	if err := r.read(r.hdr[:8]); err != nil {
		return err
	}
	in := ngIface{link: layers.LinkType(r.order.Uint16(r.hdr[:2])), snaplen: r.order.Uint32(r.hdr[4:8]), units: 1e6}
	for r.left-4 >= 4 {
		if err := r.read(r.hdr[:4]); err != nil {
			return err
		}
		code, n := r.order.Uint16(r.hdr[:2]), int64(r.order.Uint16(r.hdr[2:4]))
		padded := n + (4-n&3)&3
		if code == ngOptEnd {
			break
		}
		if padded > r.left-4 {
			return fmt.Errorf("corrupt pcapng interface block: option %d of %d bytes past the block's end", code, n)
		}
		var err error
		switch {
		case code == ngOptTSResolution && n == 1:
			err = r.read(r.hdr[:4])
			if err == nil {
				in.units, err = tsUnits(r.hdr[0])
			}
		case code == ngOptTSOffset && n == 8:
			err = r.read(r.hdr[:8])
			in.offset = int64(r.order.Uint64(r.hdr[:8]))
		default:
			err = r.skip(padded)
		}
		if err != nil {
			return err
		}
	}
	r.nIface++
	r.st.Stats.Interfaces++
	if len(r.ifaces) < MaxInterfaces {
		r.ifaces = append(r.ifaces, in)
	}
	return nil
}

// tsUnits is the number of timestamp units per second if_tsresol gives.
func tsUnits(res byte) (uint64, error) {
	e := uint64(res & 0x7f)
	if res&0x80 != 0 {
		if e > 63 {
			return 0, fmt.Errorf("timestamp resolution 2^-%d is too high", e)
		}
		return 1 << e, nil
	}
	if e > 19 {
		return 0, fmt.Errorf("timestamp resolution 10^-%d is too high", e)
	}
	u := uint64(1)
	for range e {
		u *= 10
	}
	return u, nil
}

func (r *ngReader) next() ([]byte, gopacket.CaptureInfo, error) {
	for {
		typ, err := r.blockHeader()
		if err != nil {
			return nil, gopacket.CaptureInfo{}, err // io.EOF only at a block boundary
		}
		switch typ {
		case ngEnhancedPacket, ngObsoletePacket, ngSimplePacket:
			data, ci, ok, err := r.packet(typ)
			if ok || err != nil {
				return data, ci, err
			}
		default:
			if err := r.block(typ); err != nil {
				return nil, gopacket.CaptureInfo{}, err
			}
		}
	}
}

// packet reads a packet block; ok is false when the packet was read past
// (oversized, or of an interface not analysed).
func (r *ngReader) packet(typ uint32) (data []byte, ci gopacket.CaptureInfo, ok bool, err error) {
	var ifid int
	var ts uint64
	var caplen, origlen int64
	if typ == ngSimplePacket {
		if err := r.read(r.hdr[:4]); err != nil {
			return nil, ci, false, err
		}
		origlen = int64(r.order.Uint32(r.hdr[:4]))
		caplen = min(origlen, r.left-4)
		if len(r.ifaces) > 0 && r.ifaces[0].snaplen > 0 {
			caplen = min(caplen, int64(r.ifaces[0].snaplen))
		}
	} else {
		if err := r.read(r.hdr[:20]); err != nil {
			return nil, ci, false, err
		}
		ifid = int(r.order.Uint32(r.hdr[:4]))
		if typ == ngObsoletePacket {
			ifid = int(r.order.Uint16(r.hdr[:2]))
		}
		ts = uint64(r.order.Uint32(r.hdr[4:8]))<<32 | uint64(r.order.Uint32(r.hdr[8:12]))
		caplen, origlen = int64(r.order.Uint32(r.hdr[12:16])), int64(r.order.Uint32(r.hdr[16:20]))
	}
	if ifid >= r.nIface {
		return nil, ci, false, fmt.Errorf("interface id %d not present in section (have only %d interfaces)", ifid, r.nIface)
	}
	padded := caplen + (4-caplen&3)&3
	if padded > r.left-4 {
		return nil, ci, false, fmt.Errorf("corrupt pcapng packet block: capture length %d exceeds block length %d", caplen, r.total)
	}
	r.st.records++
	skipped := r.skipReason(ifid, caplen)
	if skipped == nil {
		data = r.st.buffer(int(caplen))
		err = r.read(data)
	}
	if err == nil {
		err = r.finish()
	}
	if err != nil {
		return nil, ci, false, err
	}
	if skipped == &r.st.Stats.Oversized {
		r.st.oversized(caplen)
	} else if skipped != nil {
		*skipped++
	}
	if skipped != nil {
		return nil, ci, false, nil
	}
	ci.Timestamp = r.timestamp(r.ifaces[ifid], ts, typ == ngSimplePacket)
	ci.CaptureLength, ci.Length, ci.InterfaceIndex = int(caplen), int(max(origlen, caplen)), ifid
	return data, ci, true, nil
}

// skipReason returns the counter of the reason a packet is read past, nil
// when it is returned.
func (r *ngReader) skipReason(ifid int, caplen int64) *int64 {
	switch {
	case ifid >= len(r.ifaces):
		return &r.st.Stats.OtherInterface
	case r.ifaces[ifid].link != r.first:
		return &r.st.Stats.OtherLinkType
	case caplen > MaxPacket:
		return &r.st.Stats.Oversized
	}
	return nil
}

// timestamp converts a pcapng timestamp of in's resolution and offset.
// A simple packet block has none: it gets the previous packet's.
func (r *ngReader) timestamp(in ngIface, ts uint64, none bool) time.Time {
	if none {
		return r.st.last
	}
	sec, rem := ts/in.units, ts%in.units
	hi, lo := bits.Mul64(rem, 1e9)
	nsec, _ := bits.Div64(hi, lo, in.units)
	ok := sec <= math.MaxInt64
	s := int64(sec)
	if ok {
		var carry bool
		s, carry = addOverflows(s, in.offset)
		ok = !carry
	}
	return r.st.timestamp(s, int64(nsec), ok)
}

// addOverflows returns a+b and whether it overflowed.
func addOverflows(a, b int64) (int64, bool) {
	s := a + b
	return s, (b > 0 && s < a) || (b < 0 && s > a)
}
