package analyze

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// TestHandshakeBudget: 10 000 connections, each a banner and the first
// 34 000 bytes of a clear-text packet that never completes (a hostile
// pre-KEX stream). Each handshake may hold 64 KiB, so without a shared
// bound they held 340 MB (1.2 GiB resident in the security review); all
// connections' buffers together stay under maxHandshakeTotal, the
// handshakes past it are given up, and the heap grows by the budget plus
// the connections' own state (about 3.3 KiB each), not by the bytes.
func TestHandshakeBudget(t *testing.T) {
	const conns, seg, chunks = 10000, 1360, 25
	head := []byte("SSH-2.0-x\r\n")
	head = binary.BigEndian.AppendUint32(head, 34990) // packet length, never completed
	head = append(head, 4, msgKexInit)
	payload := make([]byte, seg)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := NewTracker(Config{MaxConns: conns})
	at := t0
	for i := range conns {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		at = at.Add(time.Millisecond)
		tr.Observe(Segment{At: at, Src: c, Dst: srv, Seq: 99, Flags: FlagSYN, Window: 500})
		tr.Observe(Segment{At: at, Src: srv, Dst: c, Seq: 499, Ack: 100, Flags: FlagSYN | FlagACK, Window: 500})
		seq := uint32(100)
		for k := range chunks {
			p := payload
			if k == 0 {
				p = append(head, payload[len(head):]...)
			}
			tr.Observe(Segment{At: at, Src: c, Dst: srv, Seq: seq, Ack: 500, Flags: FlagACK | FlagPSH, Window: 500, Payload: p, PayloadLen: len(p)})
			seq += uint32(len(p))
		}
		if tr.hsBudget.used > maxHandshakeTotal {
			t.Fatalf("after %d connections the handshakes hold %d bytes, over %d", i+1, tr.hsBudget.used, maxHandshakeTotal)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// the budget (16 MiB) plus 10 000 connections' state; without the
	// budget: 340 MB of buffers
	if limit := int64(maxHandshakeTotal + conns*6<<10); grew > limit {
		t.Errorf("heap grew by %d MiB, want at most %d MiB", grew>>20, limit>>20)
	}
	held := 0
	for _, f := range tr.flows {
		if len(f.ssh.hs[Client].buf) > 0 {
			held++
		}
	}
	// each held handshake has 34 000 bytes: 16 MiB / 34 000 B
	if want := maxHandshakeTotal / (seg * chunks); held < want-1 || held > want+1 {
		t.Errorf("%d handshakes still buffered, want %d (the budget's worth)", held, want)
	}
	s := tr.Flush()
	if tr.hsBudget.used != 0 {
		t.Errorf("after Flush the budget holds %d bytes, want 0", tr.hsBudget.used)
	}
	if len(s.Conns) != conns {
		t.Errorf("%d connections summarised, want %d", len(s.Conns), conns)
	}
	t.Logf("heap grew %.1f MiB for %d connections; %d handshakes buffered", float64(grew)/(1<<20), conns, held)
}

// TestKeptBound: one connection, a million probe-sized requests each
// answered (a hostile stream, or a probe a second for 11 days): the
// connection keeps maxKept candidates per direction, counts the rest as
// unclassified, and its memory stays bounded (a million took 308 MiB).
func TestKeptBound(t *testing.T) {
	const n = 1 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := NewTracker(Config{})
	seq := [2]uint32{1000, 5000}
	at := t0
	for range n {
		at = at.Add(time.Second)
		tr.Observe(Segment{At: at, Src: cli, Dst: srv, Seq: seq[Client], Ack: seq[Server], Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 52})
		seq[Client] += 52
		tr.Observe(Segment{At: at.Add(time.Millisecond), Src: srv, Dst: cli, Seq: seq[Server], Ack: seq[Client], Flags: FlagACK | FlagPSH, Window: 500, PayloadLen: 28})
		seq[Server] += 28
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	s := tr.Flush()
	if len(s.Conns) != 1 {
		t.Fatalf("%d connections", len(s.Conns))
	}
	c := s.Conns[0]
	if c.Unclassified != n-maxKept {
		t.Errorf("unclassified %d, want %d", c.Unclassified, n-maxKept)
	}
	if len(c.SSH) != 1 || c.SSH[0].Probes != maxKept || c.SSH[0].Answered != maxKept {
		t.Errorf("keepalives %+v, want %d probes, all answered", c.SSH, maxKept)
	}
	// 65 536 candidates of ~100 bytes, doubled by append's growth
	if grew > 16<<20 {
		t.Errorf("heap grew by %d MiB for one connection, want at most 16 MiB", grew>>20)
	}
	t.Logf("heap grew %.1f MiB; %d kept, %d unclassified", float64(grew)/(1<<20), c.SSH[0].Probes, c.Unclassified)
}

// TestSynFlood: 300 000 SYNs from distinct sources, each answered by a
// SYN/ACK, around one real session. A full flow per SYN held ~3.3 KB (the
// table of 100 000 grew the heap by ~330 MB; a 1 M flood peaked at 891 MB
// resident); as attempts they take a few hundred bytes each, the session
// is reported whole, and every SYN is counted as a connection without data.
func TestSynFlood(t *testing.T) {
	const syns = 300000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := NewTracker(Config{})
	c := newConv().send(Client, 0, 0, FlagSYN).send(Server, time.Millisecond, 0, FlagSYN)
	c.next = [2]uint32{1001, 5001}
	for range 10 {
		c.send(Client, time.Second, 100, FlagPSH).send(Server, time.Millisecond, 100, FlagPSH)
	}
	c.segs[0].Flags = FlagSYN // the client's SYN carries no ACK
	at := t0
	next := 0
	for i := range syns {
		at = at.Add(30 * time.Microsecond)
		for next < len(c.segs) && !c.segs[next].At.After(at) {
			tr.Observe(c.segs[next])
			next++
		}
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		tr.Observe(Segment{At: at, Src: src, Dst: srv, Seq: uint32(i), Flags: FlagSYN, Window: 500})
		tr.Observe(Segment{At: at, Src: srv, Dst: src, Seq: 7, Ack: uint32(i) + 1, Flags: FlagSYN | FlagACK, Window: 500})
	}
	for ; next < len(c.segs); next++ {
		tr.Observe(c.segs[next])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	s := tr.Flush()
	if len(s.Conns) != 1 || s.Conns[0].Packets != len(c.segs) || !s.Conns[0].Handshake {
		t.Fatalf("want the one session whole (%d packets, handshake), got %d connections", len(c.segs), len(s.Conns))
	}
	if s.NoData != syns {
		t.Errorf("%d connections without data, want %d", s.NoData, syns)
	}
	// 100 000 attempts (the default table) of a SYN and a SYN/ACK each
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MiB, want at most 64 MiB", grew>>20)
	}
	t.Logf("heap grew %.1f MiB for a table of %d; %d evicted", float64(grew)/(1<<20), 100000, s.Evicted)
}
