package main

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// bigPcap is a large capture named by SSHALIVE_BENCH_PCAP, e.g. one written
// by lab/gen:
//
//	go run ./lab/gen -out /tmp/big.pcap -conns 1500 -duration 2h -seed 1
//	SSHALIVE_BENCH_PCAP=/tmp/big.pcap go test ./cmd/sshalive -run '^$' -bench Big -benchmem
//
// The file is read from disk (page cache) on every iteration, as the
// command reads it.
func bigPcap(b *testing.B) string {
	p := os.Getenv("SSHALIVE_BENCH_PCAP")
	if p == "" {
		b.Skip("SSHALIVE_BENCH_PCAP not set")
	}
	if _, err := os.Stat(p); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkBigDecodeOnly reads and decodes every packet of the big file and
// does nothing else.
func BenchmarkBigDecodeOnly(b *testing.B) {
	path := bigPcap(b)
	b.ReportAllocs()
	var packets int64
	for b.Loop() {
		f, err := capture.OpenFile(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		dec, err := capture.NewDecoder(f.LinkType())
		if err != nil {
			b.Fatal(err)
		}
		var seg analyze.Segment
		for {
			pkt, ci, err := f.ReadPacket()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			dec.Decode(pkt, ci, &seg)
			packets++
		}
		f.Close()
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}

// BenchmarkBigFullAnalysis runs readFile (decode, filter, track) and Flush
// over the same file.
func BenchmarkBigFullAnalysis(b *testing.B) {
	path := bigPcap(b)
	b.ReportAllocs()
	var packets int64
	flt, _ := newFilter(Config{})
	for b.Loop() {
		tr := analyze.NewTracker(analyze.Config{})
		res, err := readFile(context.Background(), path, nil, flt, tr, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		packets += res.packets
		tr.Flush()
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}
