package analyze

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

var (
	cli = netip.MustParseAddrPort("198.18.0.1:40000")
	srv = netip.MustParseAddrPort("198.18.0.2:22")
	t0  = time.Date(2026, 2, 26, 10, 0, 0, 0, time.UTC)
)

// conv builds a conversation packet by packet, keeping each side's seq/ack.
type conv struct {
	segs []Segment
	next [2]uint32
	at   time.Time
}

func newConv() *conv { return &conv{next: [2]uint32{1000, 5000}, at: t0} }

func (c *conv) send(from Role, after time.Duration, n int, flags TCPFlags) *conv {
	c.at = c.at.Add(after)
	src, dst := cli, srv
	if from == Server {
		src, dst = srv, cli
	}
	c.segs = append(c.segs, Segment{At: c.at, Src: src, Dst: dst, Seq: c.next[from], Ack: c.next[from.Peer()],
		Flags: flags | FlagACK, Window: 500, PayloadLen: n})
	c.next[from] += uint32(n)
	return c
}

// raw appends a segment with explicit seq and length (probes, retransmissions).
func (c *conv) raw(from Role, after time.Duration, seq uint32, n int, flags TCPFlags, win uint16) *conv {
	c.at = c.at.Add(after)
	src, dst := cli, srv
	if from == Server {
		src, dst = srv, cli
	}
	c.segs = append(c.segs, Segment{At: c.at, Src: src, Dst: dst, Seq: seq, Ack: c.next[from.Peer()], Flags: flags | FlagACK, Window: win, PayloadLen: n})
	return c
}

func (c *conv) run(cfg Config) Summary {
	tr := NewTracker(cfg)
	for _, s := range c.segs {
		tr.Observe(s)
	}
	return tr.Flush()
}

func TestPatternKeepalives(t *testing.T) {
	c := newConv().send(Client, 0, 100, FlagPSH).send(Server, 10*time.Millisecond, 200, FlagPSH)
	for i := 0; i < 5; i++ {
		c.send(Client, 20*time.Second, 52, FlagPSH).send(Server, 25*time.Millisecond, 28, FlagPSH).send(Client, time.Millisecond, 0, 0)
	}
	s := c.run(Config{})
	if len(s.Conns) != 1 || len(s.Conns[0].SSH) != 1 {
		t.Fatalf("%+v", s.Conns)
	}
	k := s.Conns[0].SSH[0]
	if k.Sender != Client || k.Probes != 5 || k.Answered != 5 || k.ProbeBytes != 52 || k.ReplyBytes != 28 || k.Mode != "pattern" {
		t.Errorf("%+v", k)
	}
	if got := *s.Conns[0].Inferred.ServerAliveInterval; got != 20 {
		t.Errorf("ServerAliveInterval %d", got)
	}
}

// TestNotKeepalives: things that look like keepalives but are not.
func TestNotKeepalives(t *testing.T) {
	tests := []struct {
		name string
		c    *conv
	}{
		{"typing echo 36/36", func() *conv {
			c := newConv()
			for i := 0; i < 20; i++ {
				c.send(Client, time.Duration(1000+i*97)*time.Millisecond, 36, FlagPSH).send(Server, 5*time.Millisecond, 36, FlagPSH)
			}
			return c
		}()},
		{"one probe-sized pair", newConv().send(Client, 0, 100, 0).send(Server, time.Second*5, 52, FlagPSH).send(Client, 20*time.Millisecond, 28, FlagPSH)},
		{"unanswered probe size, once", newConv().send(Client, 0, 100, 0).send(Server, 10*time.Millisecond, 200, 0).send(Server, 3*time.Second, 56, FlagPSH)},
		{"plain ACK of data", newConv().send(Client, 0, 100, 0).send(Server, 3*time.Second, 0, 0).send(Server, 3*time.Second, 0, 0)},
		{"keystroke-timing chaff", func() *conv {
			// OpenSSH >= 9.5 ObscureKeystrokeTiming: after a keystroke, PING
			// every ~20 ms for 1-3 s, each answered by a PONG of the same
			// size (36/36 under chacha and aes-gcm), bursts after pauses.
			c := newConv().send(Client, 0, 100, FlagPSH).send(Server, time.Millisecond, 100, FlagPSH)
			for burst := 0; burst < 6; burst++ {
				c.send(Client, time.Duration(2+burst)*time.Second, 36, FlagPSH).send(Server, time.Millisecond, 36, FlagPSH)
				for i := 0; i < 80; i++ {
					c.send(Client, 20*time.Millisecond, 36, FlagPSH).send(Server, 300*time.Microsecond, 36, FlagPSH)
				}
			}
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.c.run(Config{})
			for _, c := range s.Conns {
				if len(c.SSH)+len(c.TCP) > 0 {
					t.Errorf("invented keepalives: %+v %+v", c.SSH, c.TCP)
				}
			}
		})
	}
}

func TestTCPKeepalive(t *testing.T) {
	c := newConv().send(Client, 0, 100, FlagPSH).send(Server, 10*time.Millisecond, 0, 0)
	for i := 0; i < 3; i++ {
		c.raw(Client, 2*time.Second, c.next[Client]-1, 0, 0, 500) // probe at next-1
		c.send(Server, 100*time.Microsecond, 0, 0)                // its ACK
	}
	// Unanswered, then RST by the prober.
	for i := 0; i < 3; i++ {
		c.raw(Client, time.Second, c.next[Client]-1, 0, 0, 500)
	}
	c.raw(Client, time.Second, c.next[Client], 0, FlagRST, 0)
	s := c.run(Config{})
	conn := s.Conns[0]
	if len(conn.TCP) != 1 {
		t.Fatalf("%+v", conn.TCP)
	}
	k := conn.TCP[0]
	if k.Sender != Client || k.Probes != 6 || k.Answered != 3 || k.TrailingUnanswered != 3 {
		t.Errorf("%+v", k)
	}
	inf := conn.Inferred
	if inf.TCPKeepaliveTime == nil || *inf.TCPKeepaliveTime != 2 || inf.TCPKeepaliveIntvl == nil || *inf.TCPKeepaliveIntvl != 1 ||
		inf.TCPKeepaliveProbes == nil || *inf.TCPKeepaliveProbes != 3 {
		t.Errorf("inferred %+v", inf)
	}
	if conn.End.How != "rst" || conn.End.By != Client {
		t.Errorf("end %+v", conn.End)
	}
}

// TestZeroWindowProbe: Linux's zero-window probe has the keepalive format;
// with the peer's window at 0 it is not a keepalive.
func TestZeroWindowProbe(t *testing.T) {
	c := newConv().send(Client, 0, 100, FlagPSH)
	c.raw(Server, 10*time.Millisecond, c.next[Server], 0, 0, 0) // server advertises window 0
	for i := 0; i < 3; i++ {
		c.raw(Client, time.Second<<i, c.next[Client]-1, 0, 0, 500)
	}
	if s := c.run(Config{}); len(s.Conns[0].TCP) != 0 {
		t.Errorf("zero-window probes taken for keepalives: %+v", s.Conns[0].TCP)
	}
}

// TestRetransmittedProbeCountsOnce and a dead path: the probe is
// retransmitted and never answered.
func TestRetransmittedProbe(t *testing.T) {
	c := newConv().send(Client, 0, 100, FlagPSH).send(Server, 10*time.Millisecond, 200, FlagPSH)
	for i := 0; i < 3; i++ {
		c.send(Client, 2*time.Second, 52, FlagPSH).send(Server, time.Millisecond, 28, FlagPSH)
	}
	c.send(Client, 2*time.Second, 52, FlagPSH)
	seq := c.next[Client] - 52
	for _, d := range []time.Duration{200, 400, 800, 1600} {
		c.raw(Client, d*time.Millisecond, seq, 52, FlagPSH, 500)
	}
	s := c.run(Config{})
	k := s.Conns[0].SSH[0]
	if k.Probes != 4 || k.Answered != 3 || k.TrailingUnanswered != 1 {
		t.Errorf("%+v", k)
	}
}

// FuzzHandshake: no byte stream makes the handshake parser panic or hold
// more than its bound.
func FuzzHandshake(f *testing.F) {
	kex := []byte{0, 0, 0, 0, 4, msgKexInit}
	kex = append(kex, make([]byte, 16)...)
	for i := 0; i < 10; i++ {
		kex = binary.BigEndian.AppendUint32(kex, 3)
		kex = append(kex, "abc"...)
	}
	kex = append(kex, 0, 0, 0, 0, 0, 1, 2, 3, 4)
	binary.BigEndian.PutUint32(kex, uint32(len(kex)-4))
	f.Add(append([]byte("SSH-2.0-OpenSSH_9.2\r\n"), kex...), 7)
	f.Add([]byte("junk line\nSSH-1.5-x\n"), 3)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		var h handshake
		h.start(100)
		seq := uint32(100)
		for len(data) > 0 {
			n := min(len(data), 1+abs(cut)%64)
			h.feed(seq, data[:n], n, true)
			seq += uint32(n)
			data = data[n:]
			if len(h.buf) > maxHandshakeBuf {
				t.Fatalf("buffer %d", len(h.buf))
			}
		}
		if h.hasKex {
			negotiateSpecs(h.kex, h.kex)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// FuzzTracker: no sequence of segments makes the tracker panic.
func FuzzTracker(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := NewTracker(Config{Events: true, MaxConns: 4})
		at := t0
		for len(data) >= 12 {
			b := data[:12]
			data = data[12:]
			src, dst := cli, srv
			if b[0]&1 == 1 {
				src, dst = srv, cli
			}
			if b[0]&2 == 2 {
				src = netip.AddrPortFrom(src.Addr(), uint16(b[1]))
			}
			at = at.Add(time.Duration(b[2]) * 10 * time.Millisecond)
			n := int(b[3])
			payload := data[:min(len(data), n)]
			tr.Observe(Segment{At: at, Src: src, Dst: dst, Seq: binary.BigEndian.Uint32(b[4:]), Ack: binary.BigEndian.Uint32(b[8:]),
				Flags: TCPFlags(b[1]), Window: uint16(b[2]), PayloadLen: n, Payload: payload})
		}
		tr.Flush()
	})
}

// TestObserveAllocs: a segment of a known connection costs no allocation.
func TestObserveAllocs(t *testing.T) {
	tr := NewTracker(Config{})
	c := newConv().send(Client, 0, 100, FlagPSH).send(Server, time.Millisecond, 100, FlagPSH)
	for _, s := range c.segs {
		tr.Observe(s)
	}
	seg := c.segs[1]
	n := testing.AllocsPerRun(1000, func() {
		seg.Seq += 100
		seg.At = seg.At.Add(time.Millisecond)
		tr.Observe(seg)
	})
	if n != 0 {
		t.Errorf("%v allocations per segment", n)
	}
}
