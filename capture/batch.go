package capture

import (
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
)

// Record is one packet of a batch: its bytes are buf[Off : Off+Len] of
// the buffer ReadBatch filled.
type Record struct {
	Off, Len int
	CI       gopacket.CaptureInfo
}

// ReadBatch appends the next packets to buf (their bytes) and recs (where
// each is, and its capture info), at most maxRecs records and about
// maxBytes bytes, for a reader that hands batches to other goroutines:
// the bytes stay valid as long as buf is not reused. A classic pcap file
// is read straight into buf's spare capacity and its records are found in
// place (no copy per packet); other formats go packet by packet. The
// error is ReadPacket's at the same point: records before it are
// returned with it.
func (f *File) ReadBatch(buf []byte, recs []Record, maxRecs, maxBytes int) ([]byte, []Record, error) {
	if f.done {
		return buf, recs, io.EOF
	}
	if pr, ok := f.r.(*pcapReader); ok {
		n := len(recs)
		var err error
		buf, recs, err = pr.batch(buf, recs, maxRecs, maxBytes)
		f.count += int64(len(recs) - n)
		if err != nil {
			return buf, recs, f.fail(err)
		}
		return buf, recs, nil
	}
	for len(recs) < maxRecs && len(buf) < maxBytes {
		data, ci, err := f.ReadPacket()
		if err != nil {
			return buf, recs, err
		}
		recs = append(recs, Record{Off: len(buf), Len: len(data), CI: ci})
		buf = append(buf, data...)
	}
	return buf, recs, nil
}

// fail ends the file with the error ReadPacket reports for err.
func (f *File) fail(err error) error {
	f.done = true
	damage := f.st.damage()
	switch {
	case errors.Is(err, io.EOF) && damage != nil:
		return damage
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = ErrTruncated
	}
	if damage != nil {
		return fmt.Errorf("after packet %d: %w; %w", f.count, err, damage)
	}
	return fmt.Errorf("after packet %d: %w", f.count, err)
}

// batch reads raw bytes straight into buf's spare capacity (up to
// maxBytes, with what the last batch ended inside first) and walks the
// record headers in place, with next's checks, counts and timestamps.
func (r *pcapReader) batch(buf []byte, recs []Record, maxRecs, maxBytes int) ([]byte, []Record, error) {
	start := len(buf)
	buf = append(buf, r.carry...)
	r.carry = r.carry[:0]
	if !r.ended {
		// up to maxBytes, and at least to the end of the record the
		// carry starts (at most 16 + MaxPacket): no batch is without one
		target := start + max(maxBytes, r.firstRecord(buf[start:]))
		if len(buf) < target {
			buf, r.ended, r.readErr = fill(r.br, buf, target)
		}
	}
	off := start
	for len(recs) < maxRecs {
		if r.skip > 0 { // an oversized record, read past
			k := min(r.skip, int64(len(buf)-off))
			off += int(k)
			if r.skip -= k; r.skip > 0 {
				break
			}
			r.st.oversized(r.skipped) // counted once read past, as next does
		}
		if len(buf)-off < 16 {
			break
		}
		h := buf[off : off+16]
		caplen := int64(r.order.Uint32(h[8:12]))
		origlen := int64(r.order.Uint32(h[12:16]))
		if err := r.check(caplen, origlen); err != nil {
			return buf[:off], recs, err
		}
		if caplen <= MaxPacket && int64(len(buf)-off-16) < caplen {
			break // the rest of the record is in the next read
		}
		r.st.records++
		if caplen > MaxPacket {
			off += 16
			r.skip, r.skipped = caplen, caplen
			continue
		}
		recs = append(recs, Record{Off: off + 16, Len: int(caplen), CI: r.info(h, caplen, origlen)})
		off += 16 + int(caplen)
	}
	r.carry = append(r.carry, buf[off:]...)
	buf = buf[:off]
	if !r.ended || len(recs) == maxRecs && (len(r.carry) > 0 || r.skip > 0) {
		return buf, recs, nil
	}
	switch {
	case r.readErr != nil && !errors.Is(r.readErr, io.EOF):
		return buf, recs, r.readErr
	case len(r.carry) > 0 || r.skip > 0:
		return buf, recs, io.ErrUnexpectedEOF
	}
	return buf, recs, io.EOF
}

// firstRecord is the length, header included, of the record b starts
// (just its header when it is oversized, which is read past), or 0 when b
// holds no whole header.
func (r *pcapReader) firstRecord(b []byte) int {
	if len(b) < 16 {
		return 0
	}
	if caplen := int64(r.order.Uint32(b[8:12])); caplen <= MaxPacket {
		return 16 + int(caplen)
	}
	return 16
}

// fill reads into buf's spare capacity until it holds maxBytes or the
// input ends (ended, with the error that ended it: io.EOF at the end).
func fill(r io.Reader, buf []byte, maxBytes int) ([]byte, bool, error) {
	if cap(buf) < maxBytes {
		buf = append(buf[:cap(buf)], make([]byte, maxBytes-cap(buf))...)[:len(buf)]
	}
	for len(buf) < maxBytes {
		n, err := r.Read(buf[len(buf):maxBytes])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, true, err
		}
		if n == 0 {
			return buf, true, io.ErrNoProgress
		}
	}
	return buf, false, nil
}
