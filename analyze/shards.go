package analyze

import (
	"encoding/binary"
	"net/netip"
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

// Of is the index of the Tracker that owns the connection of a segment
// from src to dst (the same both ways).
func (s *Shards) Of(src, dst netip.AddrPort) int {
	if len(s.Trackers) == 1 {
		return 0
	}
	return int((mix(src) + mix(dst)) % uint64(len(s.Trackers)))
}

// mix hashes one endpoint (splitmix64's finaliser over address and port);
// Of adds the two, so the order does not matter.
func mix(ap netip.AddrPort) uint64 {
	b := ap.Addr().As16()
	x := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])*0x9e3779b97f4a7c15 ^ uint64(ap.Port())<<48
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Flush ends every Tracker's connections and merges their summaries, in
// the order one Tracker would give.
func (s *Shards) Flush() Summary {
	var out Summary
	for _, t := range s.Trackers {
		one := t.Flush()
		out.Conns = append(out.Conns, one.Conns...)
		out.Segments += one.Segments
		out.Evicted += one.Evicted
		out.NoData += one.NoData
	}
	sortConns(out.Conns)
	return out
}
