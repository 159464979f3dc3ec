// Command gen writes a large synthetic capture of SSH-like traffic and the
// truth it planted, for benchmarks and for checking sshalive end to end.
//
//	go run ./lab/gen -out big.pcap -conns 2000 -duration 2h -seed 1 -truth truth.json
//
// Every connection has a TCP handshake, clear-text SSH banners and KEXINITs
// (one of four cipher setups), NEWKEYS, then encrypted-looking records whose
// sizes follow FACTS §3.6. Between typing and bulk transfers it idles, and the
// keepalive timers fire as OpenSSH's and Linux's do: the ServerAlive (client)
// and ClientAlive (server) deadlines are whole seconds of a per-process clock,
// re-armed on every read of SSH data and on every probe; TCP keepalives come
// tcp_keepalive_time after the last received segment. Connections end by FIN,
// RST, a hung peer (probes go unanswered until CountMax closes the
// connection), a dead path (a probe retransmitted, or unanswered TCP probes
// ending in RST), or stay open. Each connection draws from its own random
// stream, and a heap merges the streams in time order, so the output depends
// only on the flags and memory stays small for millions of packets.
//
// The size arithmetic is repeated here on purpose (not imported from
// analyze): the truth must not share the code it checks.
package main

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "capture to write (classic pcap, Ethernet); - for stdout")
	flag.StringVar(&o.truth, "truth", "", "write the planted truth as JSON to this file")
	flag.IntVar(&o.conns, "conns", 2000, "SSH connections")
	flag.DurationVar(&o.duration, "duration", 2*time.Hour, "capture length")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed; the same flags give the same bytes")
	flag.IntVar(&o.synflood, "synflood", 0, "extra SYNs to port 22 from random sources")
	flag.Float64Var(&o.ipv6, "ipv6", 0.1, "fraction of connections over IPv6")
	flag.Parse()
	if o.out == "" || o.conns < 0 || o.duration < time.Minute {
		fmt.Fprintln(os.Stderr, "usage: gen -out FILE [-truth FILE] [-conns N] [-duration D>=1m] [-seed N] [-synflood N]")
		os.Exit(2)
	}
	if err := generate(o); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type options struct {
	out, truth string
	conns      int
	duration   time.Duration
	seed       uint64
	synflood   int
	ipv6       float64
}

// Start is the capture's first instant; times inside are µs after it.
var Start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

const sec = int64(1e6)

func generate(o options) error {
	var w io.Writer = os.Stdout
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := newPcapWriter(bw)
	total := o.duration.Microseconds()
	var h streams
	var conns []*conn
	for i := range o.conns {
		c := newConn(o, i, total)
		conns = append(conns, c)
		h.add(c)
	}
	if o.synflood > 0 {
		h.add(&flood{rng: rand.New(rand.NewPCG(o.seed, 1<<40)), left: o.synflood, gap: max(1, total/int64(o.synflood))})
	}
	packets := 0
	for len(h) > 0 {
		e := &h[0]
		src, dst := e.s.endpoints(e.p.from)
		pw.write(e.p, src, dst)
		packets++
		if p, ok := e.s.next(); ok {
			e.p = p
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	if pw.err != nil {
		return pw.err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if o.truth != "" {
		t := Truth{Version: 1, Seed: o.seed, Start: Start, Duration: o.duration.String(), Packets: packets, SynFlood: o.synflood}
		for _, c := range conns {
			t.Connections = append(t.Connections, c.truth.json())
		}
		b, err := json.MarshalIndent(t, "", " ")
		if err != nil {
			return err
		}
		return os.WriteFile(o.truth, append(b, '\n'), 0o644)
	}
	return nil
}

// pkt is one TCP segment in packet time.
type pkt struct {
	at       int64 // µs after Start
	from     int   // 0 client, 1 server
	flags    uint8
	seq, ack uint32
	n        int    // TCP payload length
	data     []byte // payload bytes, or nil for encrypted-looking filler
}

const (
	fFIN = 1 << 0
	fSYN = 1 << 1
	fRST = 1 << 2
	fPSH = 1 << 3
	fACK = 1 << 4
)

// stream yields packets in time order.
type stream interface {
	next() (pkt, bool)
	endpoints(from int) (src, dst netip.AddrPort)
}

type entry struct {
	p pkt
	s stream
	i int // tie-break: stream order
}

// streams is a min-heap of each stream's next packet.
type streams []entry

func (h streams) Len() int { return len(h) }
func (h streams) Less(a, b int) bool {
	if h[a].p.at != h[b].p.at {
		return h[a].p.at < h[b].p.at
	}
	return h[a].i < h[b].i
}
func (h streams) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *streams) Push(x any)   { *h = append(*h, x.(entry)) }
func (h *streams) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (h *streams) add(s stream) {
	if p, ok := s.next(); ok {
		heap.Push(h, entry{p: p, s: s, i: len(*h)})
	}
}

// flood is SYNs from random IPv4 sources to a few servers, evenly spread.
type flood struct {
	rng      *rand.Rand
	left     int
	at, gap  int64
	src, dst netip.AddrPort
}

func (f *flood) next() (pkt, bool) {
	if f.left == 0 {
		return pkt{}, false
	}
	f.left--
	f.at += 1 + f.rng.Int64N(2*f.gap)
	a := f.rng.Uint32()
	f.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, 64 | byte(a>>24)&63, byte(a >> 16), byte(a >> 8)}), uint16(1024+f.rng.IntN(64000)))
	f.dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 200, 0, byte(1 + f.rng.IntN(8))}), 22)
	return pkt{at: f.at, flags: fSYN, seq: f.rng.Uint32()}, true
}

func (f *flood) endpoints(int) (netip.AddrPort, netip.AddrPort) { return f.src, f.dst }
