package analyze

import (
	"net/netip"
	"testing"
	"time"
)

// TestShards: a connection's two directions go to one Tracker, the bounds
// are split, and Flush merges in the order one Tracker would give.
func TestShards(t *testing.T) {
	s := NewShards(Config{MaxConns: 10, HandshakeBudget: 1 << 20}, 3)
	if len(s.Trackers) != 3 || s.Trackers[0].cfg.MaxConns != 4 || s.Trackers[0].cfg.HandshakeBudget != 1<<20/3 {
		t.Fatalf("%d trackers, MaxConns %d, budget %d", len(s.Trackers), s.Trackers[0].cfg.MaxConns, s.Trackers[0].cfg.HandshakeBudget)
	}
	used := map[int]bool{}
	start := time.Unix(1700000000, 0)
	for i := range 60 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 200), byte(i)}), uint16(40000+i))
		srv := netip.MustParseAddrPort("10.9.9.9:22")
		k := s.Of(&Segment{Src: c, Dst: srv})
		if k2 := s.Of(&Segment{Src: srv, Dst: c}); k != k2 {
			t.Fatalf("%v: the two directions go to trackers %d and %d", c, k, k2)
		}
		used[k] = true
		at := start.Add(time.Duration(60-i) * time.Second) // later connections start earlier
		tr := s.Trackers[k]
		tr.Observe(Segment{At: at, Src: c, Dst: srv, Seq: 1, Flags: FlagSYN})
		tr.Observe(Segment{At: at.Add(time.Millisecond), Src: srv, Dst: c, Seq: 9, Ack: 2, Flags: FlagSYN | FlagACK})
		tr.Observe(Segment{At: at.Add(2 * time.Millisecond), Src: c, Dst: srv, Seq: 2, Ack: 10, Flags: FlagACK | FlagPSH, PayloadLen: 4, Payload: []byte("SSH-")})
	}
	if len(used) != 3 {
		t.Errorf("60 connections used %d of 3 trackers", len(used))
	}
	sum := s.Flush()
	if len(sum.Conns) != 60 || sum.Segments != 180 {
		t.Fatalf("%d connections, %d segments", len(sum.Conns), sum.Segments)
	}
	for i := 1; i < len(sum.Conns); i++ {
		if sum.Conns[i].FirstSeen.Before(sum.Conns[i-1].FirstSeen) {
			t.Fatalf("connection %d starts before the one listed ahead of it", i)
		}
	}
}
