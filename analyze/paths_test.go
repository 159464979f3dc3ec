package analyze

import (
	"net/netip"
	"testing"
	"time"
)

// opened starts a conversation with SYN, SYN/ACK and ACK, the server
// answering after rtt.
func opened(rtt time.Duration) *conv {
	c := newConv()
	c.segs = append(c.segs,
		Segment{At: c.at, Src: cli, Dst: srv, Seq: c.next[Client] - 1, Flags: FlagSYN, Window: 500},
		Segment{At: c.at.Add(rtt), Src: srv, Dst: cli, Seq: c.next[Server] - 1, Ack: c.next[Client], Flags: FlagSYN | FlagACK, Window: 500},
		Segment{At: c.at.Add(rtt + time.Millisecond), Src: cli, Dst: srv, Seq: c.next[Client], Ack: c.next[Server], Flags: FlagACK, Window: 500})
	c.at = c.at.Add(rtt + time.Millisecond)
	return c
}

// TestSlowPathReplies: on a 1.5 s round trip the replies come 1.5 s after
// the probes; the reply window follows the handshake's round trip.
func TestSlowPathReplies(t *testing.T) {
	c := opened(1500*time.Millisecond).send(Client, 0, 100, FlagPSH).send(Server, 1500*time.Millisecond, 200, FlagPSH)
	for i := 0; i < 4; i++ {
		c.send(Client, 3*time.Second, 52, FlagPSH).send(Server, 1500*time.Millisecond, 28, FlagPSH)
	}
	k := c.run(Config{}).Conns[0].SSH
	if len(k) != 1 || k[0].Probes != 4 || k[0].Answered != 4 || k[0].ReplyLatency.Median != 1500*time.Millisecond {
		t.Errorf("%+v", k)
	}
}

// TestPendingAtCaptureEnd: a probe sent just before the capture ended is
// awaiting its reply, not unanswered.
func TestPendingAtCaptureEnd(t *testing.T) {
	c := newConv().send(Client, 0, 100, FlagPSH).send(Server, 10*time.Millisecond, 200, FlagPSH)
	for i := 0; i < 3; i++ {
		c.send(Client, 2*time.Second, 52, FlagPSH).send(Server, time.Millisecond, 28, FlagPSH)
	}
	c.send(Client, 2*time.Second, 52, FlagPSH) // the capture ends here
	k := c.run(Config{}).Conns[0].SSH[0]
	if k.Probes != 4 || k.Answered != 3 || k.Pending != 1 || k.TrailingUnanswered != 0 {
		t.Errorf("%+v", k)
	}
}

// TestPortReuse: a SYN with a new ISN on a 4-tuple whose connection died
// (no FIN, no RST) opens a new connection; a retransmitted SYN does not.
func TestPortReuse(t *testing.T) {
	c := opened(time.Millisecond).send(Client, 0, 100, FlagPSH).send(Server, time.Millisecond, 200, FlagPSH)
	c.send(Client, time.Second, 52, FlagPSH) // never answered: the path died
	c.at = c.at.Add(5 * time.Second)
	c.segs = append(c.segs,
		Segment{At: c.at, Src: cli, Dst: srv, Seq: 777000, Flags: FlagSYN, Window: 500},
		Segment{At: c.at.Add(time.Second), Src: cli, Dst: srv, Seq: 777000, Flags: FlagSYN, Window: 500}, // retransmitted
		Segment{At: c.at.Add(time.Second + time.Millisecond), Src: srv, Dst: cli, Seq: 999000, Ack: 777001, Flags: FlagSYN | FlagACK, Window: 500},
		Segment{At: c.at.Add(time.Second + 2*time.Millisecond), Src: cli, Dst: srv, Seq: 777001, Ack: 999001, Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 40})
	s := c.run(Config{})
	if len(s.Conns) != 2 || s.Conns[1].Packets != 4 || !s.Conns[1].Handshake {
		t.Fatalf("%d connections: %+v", len(s.Conns), s.Conns)
	}
}

// TestFutureStamp: one packet stamped a day ahead neither freezes its
// connection's clock nor expires the other connections.
func TestFutureStamp(t *testing.T) {
	c := newConv().send(Client, 0, 100, FlagPSH).send(Server, 10*time.Millisecond, 200, FlagPSH)
	for i := 0; i < 6; i++ {
		c.send(Client, 2*time.Second, 52, FlagPSH).send(Server, time.Millisecond, 28, FlagPSH)
	}
	c.segs[5].At = c.segs[5].At.Add(24 * time.Hour) // a reply stamped in the future
	other := Segment{At: t0.Add(time.Second), Src: netip.MustParseAddrPort("198.18.0.9:40001"), Dst: srv, Seq: 5, Ack: 1, Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 100}
	tr := NewTracker(Config{IdleTimeout: time.Hour})
	tr.Observe(other)
	for _, s := range c.segs {
		tr.Observe(s)
	}
	if n := len(tr.Drain()); n != 0 {
		t.Errorf("%d connections expired by one future packet", n)
	}
	s := tr.Flush()
	for _, conn := range s.Conns {
		if conn.Client != cli {
			continue
		}
		if k := conn.SSH; len(k) != 1 || k[0].Interval.Median < 1900*time.Millisecond || k[0].Interval.Median > 2100*time.Millisecond {
			t.Errorf("keepalives after a future stamp: %+v", k)
		}
	}
}

// TestMidstreamTCPKeepalive: in a capture that begins with keepalives, the
// first probe (seq = next-1) is not taken for the sequence's start: its
// ACK says where the sequence stands, and the probes after it are seen
// (the first cannot be told from a plain ACK).
func TestMidstreamTCPKeepalive(t *testing.T) {
	c := newConv()
	for i := 0; i < 3; i++ {
		c.raw(Client, 75*time.Second, c.next[Client]-1, 0, 0, 500)
		c.send(Server, time.Millisecond, 0, 0)
	}
	conn := c.run(Config{}).Conns
	if len(conn) != 1 || len(conn[0].TCP) != 1 || conn[0].TCP[0].Probes != 2 || conn[0].TCP[0].Answered != 2 {
		t.Errorf("%+v", conn)
	}
}
