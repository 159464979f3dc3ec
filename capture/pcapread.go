package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// pcapReader reads the classic pcap format: both byte orders, microsecond
// and nanosecond timestamps. Packet data is read into one buffer of at most
// MaxPacket bytes; a larger record is read past (bufio's Discard, no
// allocation) and counted.
type pcapReader struct {
	br      *bufio.Reader
	order   binary.ByteOrder
	nanos   bool
	snaplen uint32
	link    layers.LinkType
	hdr     [16]byte
	st      *readState
	// batch's state: the start of a record the last batch ended inside,
	// the bytes of an oversized record still to read past, and whether
	// (and how) the input ended.
	carry   []byte
	skip    int64
	skipped int64 // the oversized record's length
	ended   bool
	readErr error
}

func newPcapReader(br *bufio.Reader, st *readState) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	r := &pcapReader{br: br, st: st}
	switch magic := binary.LittleEndian.Uint32(h[:4]); magic {
	case 0xa1b2c3d4:
		r.order = binary.LittleEndian
	case 0xd4c3b2a1:
		r.order = binary.BigEndian
	case 0xa1b23c4d:
		r.order, r.nanos = binary.LittleEndian, true
	case 0x4d3cb2a1:
		r.order, r.nanos = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("unknown magic %x", magic)
	}
	// The messages are pcapgo's, which sshalive used before (and
	// testdata/broken documents).
	if v := r.order.Uint16(h[4:6]); v != 2 {
		return nil, fmt.Errorf("Unknown major version %d", v) //lint:ignore ST1005 pcapgo's wording, documented
	}
	if v := r.order.Uint16(h[6:8]); v != 4 {
		return nil, fmt.Errorf("Unknown minor version %d", v) //lint:ignore ST1005 pcapgo's wording, documented
	}
	r.snaplen = r.order.Uint32(h[16:20])
	r.link = layers.LinkType(r.order.Uint32(h[20:24]))
	return r, nil
}

func (r *pcapReader) linkType() layers.LinkType { return r.link }

func (r *pcapReader) next() ([]byte, gopacket.CaptureInfo, error) {
	var ci gopacket.CaptureInfo
	for {
		if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
			return nil, ci, err
		}
		caplen := int64(r.order.Uint32(r.hdr[8:12]))
		origlen := int64(r.order.Uint32(r.hdr[12:16]))
		if err := r.check(caplen, origlen); err != nil {
			return nil, ci, err
		}
		r.st.records++
		if caplen > MaxPacket {
			if err := discard(r.br, caplen); err != nil {
				return nil, ci, err
			}
			r.st.oversized(caplen)
			continue
		}
		data, err := r.record(int(caplen))
		if err != nil {
			return nil, ci, err
		}
		return data, r.info(r.hdr[:], caplen, origlen), nil
	}
}

// check refuses a record header that cannot be right. A record longer
// than the snap length (or than MaxPacket when the snap length is smaller)
// means the header is garbage: stop, as there is no telling where the
// next record starts.
func (r *pcapReader) check(caplen, origlen int64) error {
	if caplen > max(int64(r.snaplen), MaxPacket) {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, r.snaplen)
	}
	if caplen > origlen {
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, origlen)
	}
	return nil
}

// info is the capture info of a record with header h.
func (r *pcapReader) info(h []byte, caplen, origlen int64) gopacket.CaptureInfo {
	sec, frac := int64(r.order.Uint32(h[0:4])), int64(r.order.Uint32(h[4:8]))
	unit := int64(1000)
	if r.nanos {
		unit = 1
	}
	return captureInfo(r.st.timestamp(sec, frac*unit, frac*unit < 1e9), caplen, origlen)
}

func captureInfo(ts time.Time, caplen, origlen int64) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: ts, CaptureLength: int(caplen), Length: int(origlen)}
}

// record returns the next n bytes: in place in bufio's buffer when they
// fit there (valid until the next read, as ReadPacket promises; no copy),
// else copied into the packet buffer.
func (r *pcapReader) record(n int) ([]byte, error) {
	if n <= r.br.Size() {
		data, err := r.br.Peek(n)
		if err != nil {
			return nil, unexpected(err)
		}
		r.br.Discard(n) // buffered: moves past them without reading
		return data, nil
	}
	data := r.st.buffer(n)
	if _, err := io.ReadFull(r.br, data); err != nil {
		return nil, unexpected(err)
	}
	return data, nil
}

// discard reads past n bytes in bufio's buffer; the input ending first is
// io.ErrUnexpectedEOF.
func discard(br *bufio.Reader, n int64) error {
	for n > 0 {
		chunk := int(min(n, 1<<20))
		d, err := br.Discard(chunk)
		n -= int64(d)
		if err != nil {
			return unexpected(err)
		}
	}
	return nil
}

// unexpected turns io.EOF inside a record into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
