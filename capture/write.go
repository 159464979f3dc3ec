package capture

import (
	"bufio"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Writer saves packets to a pcap file (nanosecond timestamps), so the
// evidence of a live run can be opened in Wireshark or read again with -r.
type Writer struct {
	f  *os.File
	bw *bufio.Writer
	w  *pcapgo.Writer
}

// CreateFile creates path and writes the pcap header for lt and snaplen.
func CreateFile(path string, lt layers.LinkType, snaplen int) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(uint32(snaplen), lt); err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{f: f, bw: bw, w: w}, nil
}

// WritePacket appends one packet.
func (w *Writer) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	return w.w.WritePacket(ci, data)
}

// Flush writes out the packets buffered so far, so that the file can be
// read while the capture runs.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Close flushes and closes the file.
func (w *Writer) Close() error {
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}
