package analyze

import "time"

// The TCP stage. Per connection it follows both directions' sequence space,
// ACKs, windows and silences, and turns each segment into a tcpFact: new
// payload, a retransmission, a TCP keepalive or its ACK, a zero-window probe,
// or a bare control segment. It knows nothing of SSH; the SSH stage and the
// consumers (keepalive classification, end diagnosis, timeline) read its
// facts and, at the end, its per-direction state.

// segKind is what a segment is at the TCP layer.
type segKind uint8

const (
	segControl     segKind = iota // no new payload: ACK, SYN, FIN, RST
	segData                       // carries payload bytes not seen before
	segRetrans                    // carries only bytes already seen: retransmission or path duplicate
	segTCPProbe                   // TCP keepalive: 0 or 1 byte at next-1 after a silence
	segTCPProbeAck                // the peer's ACK of a TCP keepalive
	segWindowProbe                // keepalive format, but the peer's window is 0
	segDuplicate                  // a copy of a segment just seen: the path (or the capture) doubled it
)

// label is the timeline label a segment of this kind starts with (a
// keepalive's label is settled when the connection is summarised).
func (k segKind) label() Label {
	switch k {
	case segTCPProbe:
		return LabelTCPProbe
	case segTCPProbeAck:
		return LabelTCPProbeAck
	case segWindowProbe:
		return LabelWindowProbe
	case segRetrans:
		return LabelRetransmission
	case segDuplicate:
		return LabelDuplicate
	}
	return LabelNone
}

// tcpFact is what the TCP stage learnt from one segment.
type tcpFact struct {
	from     Role
	at       time.Time     // the segment's time; never earlier than the connection's previous packet
	gap      time.Duration // silence (no packet either way) before it
	kind     segKind
	size     int           // TCP payload length
	newBytes int           // segData: payload bytes not seen before
	seq      uint32        // segData: sequence number of the first new byte; segRetrans: the segment's
	idle     time.Duration // segTCPProbe: since the prober last heard from its peer (0: unknown)
	sentIdle time.Duration // segData: since the sender's previous new data (unknownIdle: none)
}

// dirState is what one direction of a connection has shown.
type dirState struct {
	seen     bool
	hasNext  bool
	next     uint32 // sequence number after the highest byte (SYN/FIN count one)
	ack      uint32 // last acknowledgment number sent
	hasAck   bool
	window   uint16
	lastSeg  time.Time
	lastData time.Time // last segment carrying new payload
	dataSeen bool
	fin      bool
}

// outstanding is a sender's data (or FIN) that its peer has not yet
// acknowledged, from the first such segment on.
type outstanding struct {
	on          bool
	at          time.Time     // first unacknowledged segment
	gap         time.Duration // silence (no packet either way) before it
	survived    time.Duration // longest silence before that gap
	retrans     int
	lastRetrans time.Time
	heard       time.Time // last packet from the peer before it
}

// tcpConn is the TCP stage's state for one connection.
type tcpConn struct {
	first, last time.Time
	packets     int
	synSeen     bool
	longestIdle time.Duration
	end         End  // How, By, At of the first FIN or RST
	bareEnd     bool // the first FIN or RST carried no data

	dir       [2]dirState
	out       [2]outstanding // per sender: data the peer has not acknowledged
	lastHeard [2]time.Time   // last segment each end received from its peer
	probeAt   [2]time.Time   // per prober: the TCP keepalive awaiting its ACK
	probePend [2]bool
	lastSent  [2]time.Time  // each end's last segment other than its ACK of a TCP keepalive
	recent    [2][4]seenSeg // each end's last data segments, to tell path duplicates
	recentN   [2]int
	jump      clockJumpMark

	// Round-trip time: from the client's SYN to its ACK of the SYN/ACK (the
	// same wherever the capture was taken), else the sum over both
	// directions of the quickest pure ACK of new data.
	synAt    time.Time
	isn      uint32 // the client SYN's sequence number, once synAt is set
	hsRTT    time.Duration
	minAck   [2]time.Duration // per data sender: its quickest data-to-ACK time
	ackTimed [2]bool
}

// seenSeg is a data segment as sent: where it starts, how long, when.
type seenSeg struct {
	seq uint32
	n   int
	at  time.Time
}

// duplicate reports whether seg repeats one of d's recent data segments
// sooner than any retransmission could come: within half the round trip
// (a sender retransmits after a timeout or three duplicate ACKs, never
// before the round trip), at least 1 ms.
func (t *tcpConn) duplicate(seg *Segment, d Role, at time.Time) bool {
	win := max(time.Millisecond, t.rtt()/2)
	for _, r := range t.recent[d] {
		if r.n > 0 && r.seq == seg.Seq && r.n == seg.PayloadLen && since(at, r.at) < win {
			return true
		}
	}
	return false
}

// remember keeps seg among d's recent data segments.
func (t *tcpConn) remember(seg *Segment, d Role, at time.Time) {
	t.recent[d][t.recentN[d]%len(t.recent[d])] = seenSeg{seg.Seq, seg.PayloadLen, at}
	t.recentN[d]++
}

// clockJumpMark remembers the clock before a jump of more than clockJump,
// until the next packet confirms the jump or shows it was one packet
// stamped in the future.
type clockJumpMark struct {
	before  time.Time
	longest time.Duration
}

// rtt is the connection's round-trip time as far as the capture shows it
// (0: not known yet).
func (t *tcpConn) rtt() time.Duration {
	switch {
	case t.hsRTT > 0:
		return t.hsRTT
	case t.ackTimed[Client] && t.ackTimed[Server]:
		return t.minAck[Client] + t.minAck[Server]
	}
	return 0
}

// replyWindow bounds the time from a probe to its reply: a second, or
// twice the round trip and some on a slow path.
func (t *tcpConn) replyWindow() time.Duration {
	return max(replyWindow, 2*t.rtt()+replySlack)
}

func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

// observe runs the TCP stage on seg, sent by d.
func (t *tcpConn) observe(seg *Segment, d Role) tcpFact {
	x := tcpFact{from: d, size: seg.PayloadLen}
	survived := t.longestIdle
	x.at, x.gap = t.clock(seg.At)
	ds := &t.dir[d]
	fl := seg.Flags
	t.control(seg, d, x.at)
	x.kind, x.idle = t.keepalive(seg, d, x.at)
	switch {
	case x.kind == segControl && seg.PayloadLen > 0:
		t.payload(seg, d, &x)
	case !ds.hasNext:
		ds.next, ds.hasNext = seg.Seq, true
		if x.kind == segTCPProbe {
			ds.next++ // a keepalive is at next-1
		}
	}
	if fl.Has(FlagFIN) {
		end := seg.Seq + uint32(seg.PayloadLen) + 1
		if !seqLess(end, ds.next) {
			ds.next = end
		}
		ds.fin = true
	}
	if (x.newBytes > 0 || fl.Has(FlagFIN)) && !t.out[d].on {
		t.out[d] = outstanding{on: true, at: x.at, gap: x.gap, survived: survived, heard: t.dir[d.Peer()].lastSeg}
	}
	if fl.Has(FlagACK) {
		t.acked(d, seg.Ack, x.at, seg.PayloadLen == 0 && fl&(FlagSYN|FlagFIN|FlagRST) == 0)
	}
	if x.kind != segTCPProbeAck {
		t.lastSent[d] = x.at
	}
	ds.window = seg.Window
	ds.seen = true
	ds.lastSeg = x.at
	t.lastHeard[d.Peer()] = x.at
	if x.newBytes > 0 {
		x.sentIdle = unknownIdle
		if ds.dataSeen {
			x.sentIdle = since(x.at, ds.lastData)
		}
		ds.lastData, ds.dataSeen = x.at, true
	}
	return x
}

// control records what SYN, FIN and RST say: the sequence's start, the
// handshake's round trip, and the connection's first FIN or RST.
func (t *tcpConn) control(seg *Segment, d Role, at time.Time) {
	ds, fl := &t.dir[d], seg.Flags
	if fl.Has(FlagSYN) {
		t.synSeen = true
		ds.next, ds.hasNext = seg.Seq+1, true
		if d == Client && !fl.Has(FlagACK) && t.synAt.IsZero() {
			t.synAt, t.isn = at, seg.Seq
		}
	} else if d == Client && t.hsRTT == 0 && !t.synAt.IsZero() && t.dir[Server].hasNext && fl.Has(FlagACK) && seg.Ack == t.dir[Server].next {
		t.hsRTT = max(since(at, t.synAt), time.Microsecond)
	}
	if fl&(FlagFIN|FlagRST) != 0 && t.end.How == "" {
		t.end = End{How: "fin", By: d, At: at}
		t.bareEnd = seg.PayloadLen == 0
		if fl.Has(FlagRST) {
			t.end.How = "rst"
		}
	}
}

// clock advances the connection's clock to at and returns the segment's
// time and the silence before it. Time running backwards (a clock step,
// merged captures) stands still for this connection instead — unless the
// packet before was one stamped far in the future: then that one is
// forgotten and the clock goes on from where it was.
func (t *tcpConn) clock(at time.Time) (time.Time, time.Duration) {
	gap := time.Duration(0)
	if t.packets > 0 {
		if at.Before(t.last) {
			if j := t.jump; !j.before.IsZero() && !at.Before(j.before) {
				t.last, t.longestIdle = j.before, j.longest
			} else {
				at = t.last
			}
		}
		t.jump = clockJumpMark{}
		if gap = since(at, t.last); gap > clockJump {
			t.jump = clockJumpMark{before: t.last, longest: t.longestIdle}
		}
		if gap > t.longestIdle {
			t.longestIdle = gap
		}
	}
	t.packets++
	if at.After(t.last) {
		t.last = at
	}
	return at, gap
}

// keepalive recognises a TCP keepalive (0 or 1 byte at next-1, nothing else
// outstanding, after a silence: FACTS §1, §4), a zero-window probe of the
// same format, and the peer's ACK of a keepalive. It returns segControl for
// anything else, and for a keepalive the silence its sender had heard.
func (t *tcpConn) keepalive(seg *Segment, d Role, at time.Time) (segKind, time.Duration) {
	ds, ps := &t.dir[d], &t.dir[d.Peer()]
	fl := seg.Flags
	if fl&(FlagSYN|FlagFIN|FlagRST) != 0 || !fl.Has(FlagACK) {
		return segControl, 0
	}
	next, known := ds.next, ds.hasNext
	if !known && ps.hasAck {
		// mid-stream: the peer's ACK says where d's sequence stands
		next, known = ps.ack, true
	}
	if known && seg.PayloadLen <= 1 && seg.Seq == next-1 &&
		since(at, t.lastSent[d]) >= tcpProbeMinGap && (!ps.hasAck || ps.ack == next) {
		if ps.seen && ps.window == 0 {
			return segWindowProbe, 0
		}
		idle := time.Duration(0)
		if !t.lastHeard[d].IsZero() {
			idle = since(at, t.lastHeard[d])
		}
		t.probeAt[d], t.probePend[d] = at, true
		return segTCPProbe, idle
	}
	p := d.Peer()
	if seg.PayloadLen == 0 && t.probePend[p] && seg.Ack == ps.next && (!ds.hasNext || seg.Seq == ds.next) {
		t.probePend[p] = false
		if since(at, t.probeAt[p]) <= 2*t.replyWindow() {
			return segTCPProbeAck, 0
		}
	}
	return segControl, 0
}

// payload sorts a segment with payload into new bytes (counting
// retransmitted ones once) or a retransmission.
func (t *tcpConn) payload(seg *Segment, d Role, x *tcpFact) {
	ds := &t.dir[d]
	end := seg.Seq + uint32(seg.PayloadLen)
	if !ds.hasNext || !seqLess(ds.next, seg.Seq) && seqLess(ds.next, end) || seqLess(ds.next, seg.Seq) {
		start := seg.Seq
		if ds.hasNext && seqLess(seg.Seq, ds.next) {
			start = ds.next
		}
		x.kind, x.newBytes, x.seq = segData, int(end-start), start
		ds.next, ds.hasNext = end, true
		t.remember(seg, d, x.at)
		return
	}
	if t.duplicate(seg, d, x.at) {
		x.kind, x.seq = segDuplicate, seg.Seq
		return
	}
	x.kind, x.seq = segRetrans, seg.Seq
	if o := &t.out[d]; o.on {
		o.retrans++
		o.lastRetrans = x.at
	}
}

// acked records an acknowledgment sent by d at at: the peer's data up to
// ack has arrived. A pure ACK clearing data sent once times the round trip
// (an ACK riding on later data may have waited for it).
func (t *tcpConn) acked(d Role, ack uint32, at time.Time, pure bool) {
	ds, ps := &t.dir[d], &t.dir[d.Peer()]
	ds.ack, ds.hasAck = ack, true
	if ps.hasNext && !ps.dataSeen && ack == ps.next+1 {
		// mid-stream, the peer's sequence was seeded from a keepalive at
		// next-1: this ACK says where it stands
		ps.next = ack
	}
	if o := &t.out[d.Peer()]; o.on && ps.hasNext && !seqLess(ack, ps.next) {
		o.on = false
		p := d.Peer()
		if sample := since(at, o.at); pure && o.retrans == 0 && (!t.ackTimed[p] || sample < t.minAck[p]) {
			t.minAck[p], t.ackTimed[p] = sample, true
		}
	}
}

// swap exchanges the roles of the two ends (orientation was a guess).
func (t *tcpConn) swap() {
	t.dir[0], t.dir[1] = t.dir[1], t.dir[0]
	t.out[0], t.out[1] = t.out[1], t.out[0]
	t.lastHeard[0], t.lastHeard[1] = t.lastHeard[1], t.lastHeard[0]
	t.probeAt[0], t.probeAt[1] = t.probeAt[1], t.probeAt[0]
	t.probePend[0], t.probePend[1] = t.probePend[1], t.probePend[0]
	t.lastSent[0], t.lastSent[1] = t.lastSent[1], t.lastSent[0]
	t.recent[0], t.recent[1] = t.recent[1], t.recent[0]
	t.recentN[0], t.recentN[1] = t.recentN[1], t.recentN[0]
	t.minAck[0], t.minAck[1] = t.minAck[1], t.minAck[0]
	t.ackTimed[0], t.ackTimed[1] = t.ackTimed[1], t.ackTimed[0]
	if t.end.How != "" {
		t.end.By = t.end.By.Peer()
	}
}

// reopens reports whether seg, a SYN without ACK, opens a new connection on
// this one's 4-tuple: any SYN but a retransmission of this connection's own
// (same ISN) — after a close, a half-close, a dead path, or in a capture
// that began mid-connection.
func (t *tcpConn) reopens(seg *Segment) bool {
	if seg.Flags&(FlagSYN|FlagACK) != FlagSYN {
		return false
	}
	return t.synAt.IsZero() || seg.Seq != t.isn
}

// closed reports whether both FINs or an RST were seen.
func (t *tcpConn) closed() bool {
	return t.end.How == "rst" || (t.dir[0].fin && t.dir[1].fin)
}
