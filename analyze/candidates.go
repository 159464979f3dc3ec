package analyze

import "time"

// The consumers of the stages' facts that run per packet: SSH probe
// candidates (small new data after the peer was silent, and the peer's
// first data after it), TCP keepalive probes, and the log of non-keepalive
// data the end diagnosis reads. Which candidates are probes is decided when
// the connection is summarised (classify.go).

// unknownIdle marks a candidate seen before the peer sent anything in a
// capture that started mid-connection: the silence before it is unknown.
const unknownIdle = time.Duration(-1)

// sshCand is a segment that may be an SSH keepalive probe: small, new data
// after the peer was silent.
type sshCand struct {
	at        time.Time
	size      int
	idle      time.Duration
	answered  bool
	replySize int
	latency   time.Duration
	probeEv   int32
	replyEv   int32
	seq       uint32 // first sequence number of the probe's bytes
	retrans   int    // TCP retransmissions of it: the path did not deliver it
	reply     bool   // it answered a kept candidate of the peer: not data
}

// candidates holds each sender's probe candidates: the one awaiting the
// peer's next data, and those kept.
type candidates struct {
	pend  [2]sshCand
	hasPd [2]bool
	list  [2][]sshCand
}

// retrans counts a retransmission of d's pending candidate.
func (c *candidates) retrans(d Role, seq uint32) {
	if c.hasPd[d] && c.pend[d].seq == seq {
		c.pend[d].retrans++
	}
}

// tcpProbe is one TCP keepalive.
type tcpProbe struct {
	at       time.Time
	bytes    int
	idle     time.Duration // since the prober last heard from its peer
	answered bool
	ev       int32
}

// burst is a run of data after a silence.
type burst struct {
	at      time.Time
	by      Role
	idle    time.Duration // silence (no data either way) before it
	atLeast bool          // no data before it in the capture: idle is a lower bound
}

// burstGap is the least silence before data that starts a new burst.
const burstGap = time.Second

// dataLog is the connection's non-keepalive data, for the end diagnosis:
// the last data segment that is no probe candidate nor a reply to one, and
// the last few bursts (data after at least burstGap of no data).
type dataLog struct {
	lastReal time.Time
	realSeen bool
	bursts   [4]burst
	nBursts  int
}

// note records non-keepalive data sent by d at at. Calls come in time
// order: a candidate settles before any later data is noted. first is the
// connection's first packet; synSeen says whether the capture holds its start.
func (l *dataLog) note(d Role, at, first time.Time, synSeen bool) {
	if l.realSeen && at.Sub(l.lastReal) < burstGap {
		if at.After(l.lastReal) {
			l.lastReal = at
		}
		return
	}
	b := burst{at: at, by: d}
	if l.realSeen {
		b.idle = at.Sub(l.lastReal)
	} else {
		b.idle, b.atLeast = at.Sub(first), !synSeen
	}
	copy(l.bursts[1:], l.bursts[:len(l.bursts)-1])
	l.bursts[0] = b
	l.nBursts++
	l.lastReal, l.realSeen = at, true
}

// onData tracks SSH probe candidates: a small segment after the peer's
// silence, and the first data the peer sends back.
func (f *flow) onData(d Role, at time.Time, n int, seq uint32, ev int32) {
	p := d.Peer()
	cs := &f.cands
	isReply := false
	if cs.hasPd[p] {
		c := cs.pend[p]
		answered := false
		if lat := at.Sub(c.at); lat <= replyWindow {
			c.answered, c.replySize, c.latency, c.replyEv = true, n, lat, ev
			answered = true
		}
		cs.hasPd[p] = false
		isReply = f.settle(p, c) && answered
	}
	if cs.hasPd[d] {
		f.settle(d, cs.pend[d]) // sent again before any reply
		cs.hasPd[d] = false
	}
	if n > maxProbeBytes || f.ssh.clearText(d) {
		f.noteData(d, at)
		return
	}
	idle := unknownIdle
	switch {
	case f.tcp.dir[p].dataSeen:
		idle = at.Sub(f.tcp.dir[p].lastData)
	case f.tcp.synSeen:
		idle = at.Sub(f.tcp.first)
	}
	cs.pend[d] = sshCand{at: at, size: n, idle: idle, probeEv: ev, replyEv: -1, seq: seq, reply: isReply}
	cs.hasPd[d] = true
}

// settle files a candidate that has met its reply (or the next data): kept
// as a possible probe, or else noted as data. It reports whether it was kept.
func (f *flow) settle(d Role, c sshCand) bool {
	if f.addCand(d, c) {
		return true
	}
	if !c.reply {
		f.noteData(d, c.at)
	}
	return false
}

// settlePending settles both senders' pending candidates (the connection is
// being summarised).
func (f *flow) settlePending() {
	for _, d := range []Role{Client, Server} {
		if f.cands.hasPd[d] {
			f.settle(d, f.cands.pend[d])
			f.cands.hasPd[d] = false
		}
	}
}

// noteData records non-keepalive data sent by d at at.
func (f *flow) noteData(d Role, at time.Time) {
	f.activity.add(at, MarkData<<d)
	f.data.note(d, at, f.tcp.first, f.tcp.synSeen)
}

// addCand keeps a settled candidate if its size can be a probe at all, so a
// connection's memory grows with its probes, not with its keystrokes. It
// reports whether it kept it.
func (f *flow) addCand(d Role, c sshCand) bool {
	if f.ssh.exactKnown() {
		sh := f.ssh.shapes[d]
		if c.size != sh[0].probe && c.size != sh[1].probe && !coalesced(c, sh, f.ssh.specs[d.Peer()]) {
			return false
		}
		if !c.answered && c.idle != unknownIdle && c.idle < minIdle {
			return false
		}
	} else if !probeSizes[c.size] {
		return false
	}
	f.cands.list[d] = append(f.cands.list[d], c)
	return true
}

// coalesced reports whether c is a global-request probe that left in one
// segment with other data (ssh writes a probe and a keystroke together),
// answered by a REQUEST_FAILURE whose size nothing else common has: no
// CHANNEL_FAILURE and no one-byte CHANNEL_DATA (keystroke echo).
func coalesced(c sshCand, sh [2]keepaliveShape, recv CipherSpec) bool {
	r := sh[0].reply
	return c.answered && c.replySize == r && c.size > sh[0].probe && c.size-sh[0].probe <= maxProbeBytes &&
		r != recv.WireSize(payloadChannelFailure) && r != recv.WireSize(10)
}
