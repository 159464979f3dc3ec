package analyze

import (
	"testing"
	"time"
)

// TestTCPStage runs segments through the TCP stage alone and checks the
// fact each one yields.
func TestTCPStage(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		from  Role
		ms    int
		seq   uint32
		ack   uint32
		n     int
		flags TCPFlags
		win   uint16
		want  segKind
		fresh int // new payload bytes expected
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"handshake, data, its retransmission", []step{
			{Client, 0, 999, 0, 0, FlagSYN, 500, segControl, 0},
			{Server, 1, 4999, 1000, 0, FlagSYN | FlagACK, 500, segControl, 0},
			{Client, 2, 1000, 5000, 100, FlagACK | FlagPSH, 500, segData, 100},
			{Client, 300, 1000, 5000, 100, FlagACK | FlagPSH, 500, segRetrans, 0},
			{Client, 600, 1050, 5000, 100, FlagACK | FlagPSH, 500, segData, 50}, // half new
		}},
		{"TCP keepalive at next-1 after a silence, and its ACK", []step{
			{Client, 0, 1000, 5000, 100, FlagACK | FlagPSH, 500, segData, 100},
			{Server, 1, 5000, 1100, 0, FlagACK, 500, segControl, 0},
			{Client, 2001, 1099, 5000, 0, FlagACK, 500, segTCPProbe, 0},
			{Server, 2002, 5000, 1100, 0, FlagACK, 500, segTCPProbeAck, 0},
		}},
		{"one garbage byte at next-1 (Windows) is a keepalive too", []step{
			{Client, 0, 1000, 5000, 100, FlagACK | FlagPSH, 500, segData, 100},
			{Server, 1, 5000, 1100, 0, FlagACK, 500, segControl, 0},
			{Client, 3000, 1099, 5000, 1, FlagACK, 500, segTCPProbe, 0},
		}},
		{"too soon after the prober's last segment: a plain duplicate", []step{
			{Client, 0, 1000, 5000, 100, FlagACK | FlagPSH, 500, segData, 100},
			{Client, 100, 1099, 5000, 0, FlagACK, 500, segControl, 0},
		}},
		{"peer's window 0: a zero-window probe", []step{
			{Client, 0, 1000, 5000, 100, FlagACK | FlagPSH, 500, segData, 100},
			{Server, 1, 5000, 1100, 0, FlagACK, 0, segControl, 0},
			{Client, 2000, 1099, 5000, 0, FlagACK, 500, segWindowProbe, 0},
		}},
		{"an ACK too late for the keepalive is a plain ACK", []step{
			{Client, 0, 1000, 5000, 100, FlagACK | FlagPSH, 500, segData, 100},
			{Server, 1, 5000, 1100, 0, FlagACK, 500, segControl, 0},
			{Client, 2001, 1099, 5000, 0, FlagACK, 500, segTCPProbe, 0},
			{Server, 5000, 5000, 1100, 0, FlagACK, 500, segControl, 0},
		}},
		{"FIN with data", []step{
			{Client, 0, 1000, 5000, 10, FlagACK | FlagPSH | FlagFIN, 500, segData, 10},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tc tcpConn
			tc.first = at(0)
			for i, s := range tt.steps {
				seg := Segment{At: at(s.ms), Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: s.win, PayloadLen: s.n}
				x := tc.observe(&seg, s.from)
				if x.kind != s.want || x.newBytes != s.fresh {
					t.Errorf("step %d: kind %d new %d, want %d %d", i, x.kind, x.newBytes, s.want, s.fresh)
				}
			}
		})
	}
}

// TestTCPStageClock: a packet stamped before its predecessor stands still
// in time instead of running backwards; silences and the longest one are
// measured between packets.
func TestTCPStageClock(t *testing.T) {
	var tc tcpConn
	seg := func(ms int, seq uint32) *Segment {
		return &Segment{At: t0.Add(time.Duration(ms) * time.Millisecond), Seq: seq, Ack: 1, Flags: FlagACK, PayloadLen: 10}
	}
	tc.observe(seg(0, 100), Client)
	x := tc.observe(seg(3000, 110), Client)
	if x.gap != 3*time.Second || tc.longestIdle != 3*time.Second {
		t.Errorf("gap %v longest %v", x.gap, tc.longestIdle)
	}
	x = tc.observe(seg(1000, 120), Client) // an hour early, say
	if !x.at.Equal(t0.Add(3*time.Second)) || x.gap != 0 {
		t.Errorf("backwards packet at %v gap %v", x.at, x.gap)
	}
	if x.sentIdle != 0 || tc.packets != 3 {
		t.Errorf("sentIdle %v packets %d", x.sentIdle, tc.packets)
	}
}

// TestTCPStageOutstanding: unacknowledged data is tracked until the peer's
// ACK covers it, and its retransmissions are counted.
func TestTCPStageOutstanding(t *testing.T) {
	var tc tcpConn
	tc.observe(&Segment{At: t0, Seq: 1000, Ack: 5000, Flags: FlagACK, PayloadLen: 50}, Client)
	tc.observe(&Segment{At: t0.Add(200 * time.Millisecond), Seq: 1000, Ack: 5000, Flags: FlagACK, PayloadLen: 50}, Client)
	if o := tc.out[Client]; !o.on || o.retrans != 1 {
		t.Fatalf("outstanding %+v", o)
	}
	tc.observe(&Segment{At: t0.Add(300 * time.Millisecond), Seq: 5000, Ack: 1050, Flags: FlagACK}, Server)
	if tc.out[Client].on {
		t.Error("acknowledged data still outstanding")
	}
}

// TestDuplicates: a copy of a segment that arrives within half the round
// trip is the path's (or the capture's) doing, not a retransmission.
func TestDuplicates(t *testing.T) {
	var tc tcpConn
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	tc.observe(&Segment{At: at(0), Seq: 999, Flags: FlagSYN, Window: 500}, Client)
	tc.observe(&Segment{At: at(40), Seq: 4999, Ack: 1000, Flags: FlagSYN | FlagACK, Window: 500}, Server)
	tc.observe(&Segment{At: at(80), Seq: 1000, Ack: 5000, Flags: FlagACK, Window: 500}, Client) // RTT 80 ms
	if x := tc.observe(&Segment{At: at(100), Seq: 1000, Ack: 5000, Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 52}, Client); x.kind != segData {
		t.Fatalf("data: %d", x.kind)
	}
	if x := tc.observe(&Segment{At: at(100.3), Seq: 1000, Ack: 5000, Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 52}, Client); x.kind != segDuplicate {
		t.Errorf("a copy 0.3 ms later: kind %d, want a duplicate", x.kind)
	}
	if x := tc.observe(&Segment{At: at(330), Seq: 1000, Ack: 5000, Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 52}, Client); x.kind != segRetrans {
		t.Errorf("a copy after the RTO: kind %d, want a retransmission", x.kind)
	}
	if o := tc.out[Client]; o.retrans != 1 {
		t.Errorf("%d retransmissions counted, want 1", o.retrans)
	}
}
