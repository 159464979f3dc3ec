package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Errors a caller may branch on.
var (
	ErrNotCapture          = errors.New("not a pcap or pcapng file")
	ErrEmpty               = errors.New("empty file")
	ErrUnsupportedLinkType = errors.New("unsupported link type")
	// ErrTruncated marks input that ends in the middle of a packet or block:
	// everything before it was read.
	ErrTruncated = errors.New("file truncated mid-packet")
)

// Source yields raw packets. The data returned by ReadPacket is valid until
// the next call.
type Source interface {
	ReadPacket() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
	Close() error
}

// packetReader is a format's reader: pcap or pcapng.
type packetReader interface {
	next() ([]byte, gopacket.CaptureInfo, error)
	linkType() layers.LinkType
}

// File is an offline capture: pcap or pcapng, optionally gzip-compressed.
// Its memory is bounded whatever the file declares: at most MaxPacket bytes
// of a packet are held, gzip is streamed, pcapng blocks are never read
// whole (see Stats for what is read past).
type File struct {
	name   string
	r      packetReader
	st     readState
	closer io.Closer
	format string
	count  int64
	done   bool
	in     *countingReader
	size   int64
	at     io.ReaderAt // the file, for Blocks: an uncompressed pcap in a regular file
}

// countingReader counts the bytes read from the file (compressed bytes for
// gzip), for progress reports.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Progress returns the bytes of the file read so far and its size (0 when
// unknown, as for stdin). Call it from the goroutine that reads.
func (f *File) Progress() (read, size int64) { return f.in.n, f.size }

// Format is "pcap" or "pcapng" (with "+gzip" when compressed).
func (f *File) Format() string { return f.format }

// Name is the path given to OpenFile ("-" for stdin).
func (f *File) Name() string { return f.name }

// LinkType is the capture's link type (of the first interface for pcapng).
func (f *File) LinkType() layers.LinkType { return f.r.linkType() }

// Stats returns what the reader has read past or repaired so far.
func (f *File) Stats() Stats { return f.st.Stats }

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// ReadPacket returns the next packet. It returns io.EOF at a clean end, an
// error wrapping ErrTruncated when the file ends inside a record, and, at
// the end, a *DamageError (wrapping ErrDamaged) instead of io.EOF when
// packets were read past or repaired (see Stats). After an error it
// returns io.EOF.
func (f *File) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	if f.done {
		return nil, gopacket.CaptureInfo{}, io.EOF
	}
	data, ci, err := f.r.next()
	if err == nil {
		f.count++
		return data, ci, nil
	}
	return nil, ci, f.fail(err)
}

// OpenFile opens a capture file; "-" reads standard input (stdin is used
// only then). Compression and format are sniffed from the first bytes.
func OpenFile(name string, stdin io.Reader) (*File, error) {
	var rc io.ReadCloser
	var size int64
	var at io.ReaderAt
	if name == "-" {
		rc = io.NopCloser(stdin)
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size, at = fi.Size(), fh
		}
		rc = fh
	}
	f, err := newFile(name, rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	f.size = size
	if f.format == "pcap" {
		f.at = at
	}
	return f, nil
}

func newFile(name string, rc io.ReadCloser) (*File, error) {
	in := &countingReader{r: rc}
	br := bufio.NewReaderSize(in, 1<<16)
	magic, err := br.Peek(4)
	if len(magic) == 0 {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, ErrEmpty
	}
	f := &File{name: name, closer: rc, in: in}
	f.st.last = time.Unix(0, 0).UTC()
	r := br
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		zbr := bufio.NewReaderSize(zr, 1<<16)
		if magic, err = zbr.Peek(4); len(magic) < 4 {
			switch {
			case len(magic) == 0 && errors.Is(err, io.EOF):
				return nil, fmt.Errorf("gzip: %w", ErrEmpty)
			case errors.Is(err, io.ErrUnexpectedEOF):
				return nil, fmt.Errorf("gzip: %w", ErrTruncated)
			case err != nil && !errors.Is(err, io.EOF):
				return nil, fmt.Errorf("gzip: %w", err)
			}
			return nil, fmt.Errorf("gzip: %w", ErrNotCapture)
		}
		r, f.format = zbr, "+gzip"
	}
	if len(magic) < 4 {
		return nil, ErrNotCapture
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		pr, err := newPcapReader(r, &f.st)
		if err != nil {
			return nil, headerErr("pcap", err)
		}
		f.r, f.format = pr, "pcap"+f.format
		f.st.link = pr.link
	case 0x0a0d0d0a:
		nr, err := newNgReader(r, &f.st)
		if err != nil {
			return nil, headerErr("pcapng", err)
		}
		f.r, f.format = nr, "pcapng"+f.format
		f.st.link = nr.first
	default:
		return nil, ErrNotCapture
	}
	return f, nil
}

func headerErr(format string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s header: %w", format, ErrTruncated)
	}
	return fmt.Errorf("corrupt %s header: %w", format, err)
}
