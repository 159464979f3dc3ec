//go:build cgo && libpcap

package capture

import (
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket/pcap"
)

// The offline readers compared on one file (SSHALIVE_BENCH_PCAP, e.g. one
// lab/gen wrote): sshalive's own pure-Go reader (File; it replaced
// gopacket's pcapgo, whose readers allocate what a hostile file declares),
// against libpcap through cgo. Each reads every packet and nothing else.

func benchFile(b *testing.B) string {
	p := os.Getenv("SSHALIVE_BENCH_PCAP")
	if p == "" {
		b.Skip("set SSHALIVE_BENCH_PCAP to a large pcap")
	}
	return p
}

func BenchmarkReadPureGo(b *testing.B) {
	path := benchFile(b)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		f, err := OpenFile(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, _, err := f.ReadPacket(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		f.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

func BenchmarkReadLibpcap(b *testing.B) {
	path := benchFile(b)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		h, err := pcap.OpenOffline(path)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, _, err := h.ZeroCopyReadPacketData(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		h.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}
