package capture

import (
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Span is what a capture file covers, as far as can be told without reading
// all of it: its first packet's time and link type, and, for an
// uncompressed classic pcap, the time it ends (Blocks.Tail).
type Span struct {
	First, Last time.Time // Last is zero when unknown (pcapng, gzip, stdin)
	LinkType    layers.LinkType
	Size        int64 // bytes (compressed ones for gzip)
}

// SpanOf opens name to read its span. The error is OpenFile's, or the
// first packet's.
func SpanOf(name string) (Span, error) {
	f, err := OpenFile(name, nil)
	if err != nil {
		return Span{}, err
	}
	defer f.Close()
	_, size := f.Progress()
	s := Span{LinkType: f.LinkType(), Size: size}
	if b := f.Blocks(64 << 10); b != nil {
		s.Last, _ = b.Tail()
	}
	_, ci, err := f.ReadPacket()
	if err != nil {
		return Span{}, err
	}
	s.First = ci.Timestamp
	if s.Last.Before(s.First) {
		s.Last = time.Time{} // the tail's guess was wrong, or the file is out of order: unknown
	}
	return s, nil
}
