package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// benchInputs are the bundled captures, read once into memory so both
// benchmarks measure the same bytes and no disk.
func benchInputs(b *testing.B) [][]byte {
	files, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no captures in %s", pcapDir)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkDecodeOnly reads and decodes every packet and does nothing else:
// the ceiling the full analysis is compared with.
func BenchmarkDecodeOnly(b *testing.B) {
	inputs := benchInputs(b)
	b.ReportAllocs()
	var packets int64
	for b.Loop() {
		for _, data := range inputs {
			f, err := capture.OpenFile("-", bytes.NewReader(data))
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
		}
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkFullAnalysis runs the whole pipeline minus rendering over the
// same bytes.
func BenchmarkFullAnalysis(b *testing.B) {
	inputs := benchInputs(b)
	b.ReportAllocs()
	var packets int64
	flt, _ := newFilter(Config{})
	for b.Loop() {
		tr := analyze.NewTracker(analyze.Config{})
		for _, data := range inputs {
			res, err := readFile(context.Background(), "-", bytes.NewReader(data), flt, tr, 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			packets += res.packets
		}
		tr.Flush()
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
