package capture

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// Blocks reads a classic pcap file in fixed blocks of its bytes, several at
// a time: the copy from the page cache, the walk over the record headers
// and whatever the caller does with the records then run on as many cores
// as call Load, instead of one reader's.
//
// Record boundaries depend on every record before them, so each block's
// are first found by a guess (Load: the first offset from which a chain of
// plausible record headers follows) and then checked, in file order, against
// where the block before really ended (Settle). A wrong guess, as a crafted
// file or a run of zero bytes can cause, costs a second walk from the right
// offset, never a wrong record: what Settle leaves in a Block is exactly
// what ReadPacket would return, with the same counts and the same error.
//
// Blocks reads the file as it was when opened (its size then); it never
// holds more than a block and one record per Block.
type Blocks struct {
	f         *File
	r         *pcapReader
	at        io.ReaderAt
	size      int64 // the file's size when opened
	blockSize int64
	n         int
	// Settle's state, touched in file order only
	first   time.Time // the timestamp a bad one before any valid one takes
	next    int64     // where the next record starts
	last    time.Time // the last valid timestamp
	settled int       // blocks settled
	err     error     // the end, once reached: as ReadPacket reports it
	done    atomic.Bool
}

// Block is one block's bytes and records. Buf and Recs are reused from one
// Load to the next.
type Block struct {
	Buf  []byte   // the block's bytes, and those of a record it ends inside
	Recs []Record // the records that start in the block, at offsets in Buf
	k    int
	base int64 // the file offset of Buf[0]
	walk walk  // what the walk over it found
}

// walk is the result of one walk over a block's records from an offset.
type walk struct {
	from, to   int64 // the first record's offset (-1: no guess), and the one after the last
	err        error // a header that cannot be right, or the file ending inside a record
	records    int64 // records walked, oversized ones included
	oversized  int64
	firstBig   int64 // the first oversized record's number in the block, from 1
	firstLen   int64 // and its length
	badTimes   int64
	last       time.Time // the last valid timestamp (zero: none)
	needsPrior bool      // a bad timestamp came before any valid one: it takes the previous block's
}

// Blocks returns f's bytes in blocks of about blockSize bytes, or nil when
// f cannot be read so: only an uncompressed classic pcap in a regular file
// not read from yet can.
func (f *File) Blocks(blockSize int) *Blocks {
	r, ok := f.r.(*pcapReader)
	if !ok || f.at == nil || f.count > 0 || f.done || r.st.records > 0 {
		return nil
	}
	bs := int64(max(blockSize, 4096))
	body := max(f.size-pcapHeaderLen, 0)
	b := &Blocks{
		f: f, r: r, at: f.at, size: f.size, blockSize: bs,
		n:     int((body + bs - 1) / bs),
		first: f.st.last, next: pcapHeaderLen, last: f.st.last,
	}
	if b.n == 0 {
		b.end(io.EOF)
	}
	return b
}

// pcapHeaderLen is the length of a classic pcap file's header, where the
// first record starts.
const pcapHeaderLen = 24

// Len is the number of blocks.
func (b *Blocks) Len() int { return b.n }

// Done reports whether the end was settled (the last block, or an error):
// the blocks after it hold nothing.
func (b *Blocks) Done() bool { return b.done.Load() }

// Err is how the file ended, once every block (or the one where it ended)
// is settled: io.EOF, or the error ReadPacket returns at the same point.
func (b *Blocks) Err() error { return b.err }

// Size is the file's size when opened.
func (b *Blocks) Size() int64 { return b.size }

// Offset is where block k starts in the file.
func (b *Blocks) Offset(k int) int64 { lo, _ := b.bounds(k); return lo }

// bounds are the file offsets block k covers.
func (b *Blocks) bounds(k int) (lo, hi int64) {
	lo = pcapHeaderLen + int64(k)*b.blockSize
	return lo, min(lo+b.blockSize, b.size)
}

// Load reads block k into blk and walks its records from a guessed first
// record. It may run on many goroutines at once, each with its own Block.
func (b *Blocks) Load(blk *Block, k int) {
	lo, hi := b.bounds(k)
	blk.k, blk.base = k, lo
	blk.Recs = blk.Recs[:0]
	blk.Buf = grow(blk.Buf[:0], int(hi-lo)+spare)[:hi-lo] // with room for the record it ends inside
	n, _ := b.at.ReadAt(blk.Buf, lo)
	blk.Buf = blk.Buf[:n]
	blk.walk = walk{from: -1} // no guess: Settle walks it from where the block before ended
	if n < int(hi-lo) {
		return // the file shrank under us: Settle walks what is there
	}
	switch {
	case k == 0:
		b.walk(blk, lo, hi, b.first)
	default:
		if from := b.guess(blk.Buf, lo); from >= 0 {
			b.walk(blk, from, hi, time.Time{})
		}
	}
}

// Settle checks blk's walk against where the block before it ended and
// walks it again from there when they differ, then counts its records into
// the file's. Blocks must be settled one at a time, in order, each after
// its Load. It reports whether blk.Recs changed since Load.
func (b *Blocks) Settle(blk *Block) (changed bool) {
	if blk.k != b.settled {
		panic("capture: blocks settled out of order")
	}
	b.settled++
	_, hi := b.bounds(blk.k)
	if b.err != nil || b.next >= hi && blk.k < b.n-1 {
		// the end came before it, or a record spans all of it
		changed = len(blk.Recs) > 0
		blk.Recs = blk.Recs[:0]
		return changed
	}
	w := &blk.walk
	if w.from != b.next || w.needsPrior {
		blk.Recs = blk.Recs[:0]
		b.walk(blk, b.next, hi, b.last)
		changed = true
	}
	st := b.r.st
	if w.oversized > 0 && st.Oversized == 0 {
		st.OversizedFirst, st.OversizedLen = st.records+w.firstBig, w.firstLen
	}
	st.records += w.records
	st.Oversized += w.oversized
	st.BadTimestamps += w.badTimes
	if !w.last.IsZero() {
		b.last = w.last
	}
	st.last = b.last
	b.f.count += int64(len(blk.Recs))
	b.next = w.to
	switch {
	case w.err != nil:
		b.end(w.err)
	case blk.k == b.n-1:
		b.end(io.EOF)
	}
	return changed
}

// end settles the end of the file, as ReadPacket reports it.
func (b *Blocks) end(err error) {
	b.err = b.f.fail(err)
	b.done.Store(true)
}

// walk finds the records that start in blk from offset from (the first
// record's, as far as is known), reading past the block's end for the
// last one's bytes. last is the timestamp a bad one before any valid one
// takes (zero: unknown, the walk needs the block before).
func (b *Blocks) walk(blk *Block, from, hi int64, last time.Time) {
	w := walk{from: from}
	r := b.r
	unit := int64(1000)
	if r.nanos {
		unit = 1
	}
	off := from
	for off < hi {
		h, err := b.span(blk, off, 16)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) && blk.base+int64(len(blk.Buf)) == off {
				err = io.EOF // the file shrank to end here, between two records, as ReadPacket sees it
			}
			w.err = err
			break
		}
		caplen := int64(r.order.Uint32(h[8:12]))
		origlen := int64(r.order.Uint32(h[12:16]))
		if err := r.check(caplen, origlen); err != nil {
			w.err = err
			break
		}
		if caplen > MaxPacket {
			w.records++
			if off+16+caplen > b.size { // counted once read past, as next does
				w.err = io.ErrUnexpectedEOF
				break
			}
			if w.oversized == 0 {
				w.firstBig, w.firstLen = w.records, caplen
			}
			w.oversized++
			off += 16 + caplen
			continue
		}
		if _, err := b.span(blk, off+16, int(caplen)); err != nil {
			w.err = err
			break
		}
		h = blk.Buf[off-blk.base : off-blk.base+16] // span may have moved Buf
		w.records++
		sec, frac := int64(r.order.Uint32(h[0:4])), int64(r.order.Uint32(h[4:8]))*unit
		var ts time.Time
		if frac < 1e9 && sec <= maxUnix {
			ts = time.Unix(sec, frac).UTC()
			last = ts
			w.last = ts
		} else {
			w.badTimes++
			if last.IsZero() {
				w.needsPrior = true
			}
			ts = last
		}
		blk.Recs = append(blk.Recs, Record{
			Off: int(off + 16 - blk.base), Len: int(caplen),
			CI: captureInfo(ts, caplen, origlen),
		})
		off += 16 + caplen
	}
	w.to = off
	blk.walk = w
}

// span returns n bytes of the file at offset off, reading them into
// blk.Buf when they are past what it holds (a record the block ends
// inside). The file ending first is io.ErrUnexpectedEOF.
func (b *Blocks) span(blk *Block, off int64, n int) ([]byte, error) {
	end := off + int64(n)
	if have := blk.base + int64(len(blk.Buf)); end > have {
		// past the size at open too, for a record the file was still
		// being written to then (tcpdump -w): read if it is there now
		old := len(blk.Buf)
		blk.Buf = grow(blk.Buf, int(end-have))
		k, err := b.at.ReadAt(blk.Buf[old:], have)
		blk.Buf = blk.Buf[:old+k]
		if k < int(end-have) {
			return nil, readErr(err)
		}
	}
	return blk.Buf[off-blk.base : end-blk.base], nil
}

// guess is the offset, from lo, of the first record that starts in the
// block in buf: the first offset from which guessChain plausible headers
// follow one another, or at least two and then the block's end. It is -1
// when none is found within the reach of one record, or within a bounded
// number of looks at headers, so that a crafted block costs no more to
// guess than to walk.
func (b *Blocks) guess(buf []byte, lo int64) int64 {
	reach := min(len(buf), 16+MaxPacket)
	budget := len(buf) + 64*guessChain
	for p := 0; p < reach; p++ {
		q, seen := p, 0
		for seen < guessChain && q+16 <= len(buf) {
			if budget--; budget < 0 {
				return -1
			}
			caplen, ok := b.plausible(buf[q : q+16])
			if !ok {
				break
			}
			seen++
			q += 16 + caplen
		}
		if seen == guessChain || seen >= 2 && q+16 > len(buf) {
			return lo + int64(p)
		}
	}
	return -1
}

// guessChain is how many headers in a row make a guess.
const guessChain = 6

// plausible tells whether h can be a record header of the file, more
// strictly than check: a valid fraction of a second, some bytes, and not
// oversized. It returns its capture length. (Timestamps say little: a
// merged capture can jump days from one record to the next.)
func (b *Blocks) plausible(h []byte) (caplen int, ok bool) {
	r := b.r
	c := r.order.Uint32(h[8:12])
	origlen := r.order.Uint32(h[12:16])
	frac := r.order.Uint32(h[4:8])
	limit := uint32(1e6)
	if r.nanos {
		limit = 1e9
	}
	return int(c), c > 0 && c <= MaxPacket && c <= origlen && origlen < 1<<24 && frac < limit
}

// spare is the room a block's buffer has past its end, for the record it
// ends inside: most records are shorter (a longer one costs a copy).
const spare = 64<<10 + 16

// grow extends b by n bytes of length.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n+spare)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// readErr is the error of a read that ended short.
func readErr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Tail is the latest timestamp among the records at the end of the file,
// without reading the rest of it: where a capture ends, to tell whether
// files overlap in time. The last block is guessed and walked to the end,
// and the guess is taken only if the walk ends exactly there, without an
// error (else one block more, up to four). ok is false when none was.
func (b *Blocks) Tail() (last time.Time, ok bool) {
	var blk Block
	for k := b.n - 1; k >= max(0, b.n-4); k-- {
		lo, _ := b.bounds(k)
		blk.k, blk.base, blk.Recs = k, lo, blk.Recs[:0]
		blk.Buf = grow(blk.Buf[:0], int(b.size-lo))
		n, _ := b.at.ReadAt(blk.Buf, lo)
		if int64(n) < b.size-lo {
			return last, false
		}
		from := lo
		if k > 0 {
			from = b.guess(blk.Buf, lo)
		}
		if from < 0 {
			continue
		}
		b.walk(&blk, from, b.size, b.first)
		if blk.walk.to != b.size || blk.walk.err != nil || len(blk.Recs) == 0 {
			continue
		}
		for _, r := range blk.Recs {
			if t := r.CI.Timestamp; t.After(last) {
				last, ok = t, true
			}
		}
		return last, ok
	}
	return last, false
}
