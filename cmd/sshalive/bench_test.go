package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// Two pairs of benchmarks compare the full analysis with a decode-only loop
// (read and decode every packet, nothing else) over the same bytes: over the
// bundled captures, held in memory, and over a large file named by
// SSHALIVE_BENCH_PCAP, read from disk (page cache) as the command reads it:
//
//	go run ./lab/gen -out /tmp/big.pcap -conns 1500 -duration 2h -seed 1
//	SSHALIVE_BENCH_PCAP=/tmp/big.pcap go test ./cmd/sshalive -run '^$' -bench Big -benchmem -cpu 1,2
//
// make bench (lab/bench.sh) runs the latter and prints the ratio.

// input is one capture to benchmark: a path, or bytes read as stdin ("-").
type input struct {
	path string
	data []byte
}

func (in input) stdin() io.Reader { return bytes.NewReader(in.data) }

func bundled(b *testing.B) []input {
	files, err := filepath.Glob(filepath.Join(pcapDir, "*.pcap"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no captures in %s", pcapDir)
	}
	var out []input
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, input{path: "-", data: data})
	}
	return out
}

func big(b *testing.B) []input {
	p := os.Getenv("SSHALIVE_BENCH_PCAP")
	if p == "" {
		b.Skip("SSHALIVE_BENCH_PCAP not set")
	}
	if _, err := os.Stat(p); err != nil {
		b.Fatal(err)
	}
	return []input{{path: p}}
}

// walk reads every packet of inputs for each benchmark iteration and hands
// it to the visitor made for its file.
func walk(b *testing.B, inputs []input, visitor func(*capture.File) func([]byte, gopacket.CaptureInfo)) {
	b.ReportAllocs()
	var packets int64
	for b.Loop() {
		for _, in := range inputs {
			f, err := capture.OpenFile(in.path, in.stdin())
			if err != nil {
				b.Fatal(err)
			}
			visit := visitor(f)
			for {
				pkt, ci, err := f.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				visit(pkt, ci)
				packets++
			}
			f.Close()
		}
	}
	reportRate(b, packets)
}

// decodeOnly reads and decodes every packet, nothing else.
func decodeOnly(b *testing.B, inputs []input) {
	walk(b, inputs, func(f *capture.File) func([]byte, gopacket.CaptureInfo) {
		dec, err := capture.NewDecoder(f.LinkType())
		if err != nil {
			b.Fatal(err)
		}
		var seg analyze.Segment
		return func(pkt []byte, ci gopacket.CaptureInfo) { dec.Decode(pkt, ci, &seg) }
	})
}

// readOnly walks the records and touches nothing else: the floor of
// reading.
func readOnly(b *testing.B, inputs []input) {
	walk(b, inputs, func(*capture.File) func([]byte, gopacket.CaptureInfo) {
		return func([]byte, gopacket.CaptureInfo) {}
	})
}

// gopacketDecode is the reference the goals are stated against: gopacket's
// pcapgo reader and one DecodingLayerParser (Ethernet, IPv4, IPv6, TCP),
// as a careful hand-written Go tool would read the file.
func gopacketDecode(b *testing.B, inputs []input) {
	b.ReportAllocs()
	var packets int64
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	for b.Loop() {
		for _, in := range inputs {
			fh, err := os.Open(in.path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := pcapgo.NewReader(bufio.NewReaderSize(fh, 1<<20))
			if err != nil {
				b.Fatal(err)
			}
			for {
				data, _, err := r.ZeroCopyReadPacketData()
				if err != nil {
					break
				}
				parser.DecodeLayers(data, &decoded)
				packets++
			}
			fh.Close()
		}
	}
	reportRate(b, packets)
}

func fullAnalysis(b *testing.B, inputs []input) {
	b.ReportAllocs()
	var packets int64
	flt, _ := newFilter(Config{})
	for b.Loop() {
		tr := analyze.NewShards(analyze.Config{}, runtime.GOMAXPROCS(0))
		for _, in := range inputs {
			res, err := readFile(context.Background(), in.path, in.stdin(), flt, tr, 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			packets += res.packets
		}
		tr.Flush()
	}
	reportRate(b, packets)
}

func reportRate(b *testing.B, packets int64) {
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}

func BenchmarkDecodeOnly(b *testing.B)      { decodeOnly(b, bundled(b)) }
func BenchmarkFullAnalysis(b *testing.B)    { fullAnalysis(b, bundled(b)) }
func BenchmarkBigDecodeOnly(b *testing.B)   { decodeOnly(b, big(b)) }
func BenchmarkBigReadOnly(b *testing.B)     { readOnly(b, big(b)) }
func BenchmarkBigGopacket(b *testing.B)     { gopacketDecode(b, big(b)) }
func BenchmarkBigFullAnalysis(b *testing.B) { fullAnalysis(b, big(b)) }

// BenchmarkBigCommand is the whole command, as `sshalive -r FILE --json`
// runs it, output discarded.
func BenchmarkBigCommand(b *testing.B) {
	in := big(b)[0]
	b.ReportAllocs()
	var packets int64
	for b.Loop() {
		var errb bytes.Buffer
		if code := run(context.Background(), []string{"-r", in.path, "--json"}, nil, io.Discard, &errb); code != exitOK {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
		packets += 1792000
	}
	reportRate(b, packets)
}
