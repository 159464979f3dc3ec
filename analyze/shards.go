package analyze

import (
	"encoding/binary"
	"sync"
)

// Shards splits one analysis across several Trackers by connection: every
// segment of a connection (both directions, every reuse of its 4-tuple)
// goes to the same Tracker, so each Tracker stays single-threaded and
// can run on a core of its own. The table bound (MaxConns) and the
// handshake budget are divided evenly between them.
type Shards struct {
	Trackers []*Tracker
}

// NewShards returns n Trackers (at least one) sharing cfg's bounds.
func NewShards(cfg Config, n int) *Shards {
	n = max(n, 1)
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 100000
	}
	if cfg.HandshakeBudget == 0 {
		cfg.HandshakeBudget = maxHandshakeTotal
	}
	cfg.MaxConns = max(1, (cfg.MaxConns+n-1)/n)
	cfg.HandshakeBudget = max(1, cfg.HandshakeBudget/n)
	s := &Shards{Trackers: make([]*Tracker, n)}
	for i := range s.Trackers {
		s.Trackers[i] = NewTracker(cfg)
	}
	return s
}

// Of is the index of the Tracker that owns the connection of seg (the
// same both ways).
func (s *Shards) Of(seg *Segment) int {
	n := uint64(len(s.Trackers))
	if n == 1 {
		return 0
	}
	flow := seg.Flow
	if flow == 0 {
		a, b := seg.Src.Addr().As16(), seg.Dst.Addr().As16()
		flow = FlowOf([4]byte(a[12:]), [4]byte(b[12:]), seg.Src.Port(), seg.Dst.Port())
	}
	return int(uint64(flow) * n >> 32)
}

// FlowOf hashes a segment's two endpoints, the same both ways, from the
// last four bytes of their addresses (all of an IPv4 one) and their ports:
// a decoder has them at hand in the packet, where netip's As16 costs more
// than the rest of the hash.
func FlowOf(srcIP, dstIP [4]byte, srcPort, dstPort uint16) uint32 {
	h := uint64(binary.BigEndian.Uint32(srcIP[:]))<<16 | uint64(srcPort)
	h += uint64(binary.BigEndian.Uint32(dstIP[:]))<<16 | uint64(dstPort)
	return uint32(h * 0x9e3779b97f4a7c15 >> 32) // Fibonacci hashing: the high bits are well mixed
}

// Flush ends every Tracker's connections, each Tracker on a goroutine of
// its own (ending thousands of connections is the analysis's last and
// longest step), and merges their summaries, in the order one Tracker
// would give.
func (s *Shards) Flush() Summary {
	sums := make([]Summary, len(s.Trackers))
	var wg sync.WaitGroup
	for i, t := range s.Trackers {
		wg.Go(func() { sums[i] = t.Flush() })
	}
	wg.Wait()
	var out Summary
	for _, one := range sums {
		out.Conns = append(out.Conns, one.Conns...)
		out.Segments += one.Segments
		out.Evicted += one.Evicted
		out.NoData += one.NoData
	}
	sortConns(out.Conns)
	return out
}
