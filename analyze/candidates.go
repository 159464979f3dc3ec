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
	crowded   bool   // its sender sent more within loneGap, before any reply
	afterPeer bool   // sent within replyWindow of the peer's data: an answer, not a timer's
	pending   bool   // unanswered, but the capture ended before its reply was due
}

// quiet reports whether c followed a silence its sender's keepalive timer
// would count (or one of unknown length): only such a request may wait for
// its reply past other data.
func (c *sshCand) quiet() bool { return c.idle == unknownIdle || c.idle >= minIdle }

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
	// peerQuiet is how long the starter's peer had sent no data when the
	// burst began (its lower bound, in a capture begun mid-connection).
	peerQuiet time.Duration
	// sizes are the first segments the starter sent in the burst (0: part
	// of a segment that held a keepalive too); segs counts them all.
	sizes [4]int
	segs  int
}

// add counts one more segment of the burst's starter.
func (b *burst) add(size int) {
	if b.segs < len(b.sizes) {
		b.sizes[b.segs] = size
	}
	b.segs++
}

// closingOnly reports whether every segment the starter sent in the burst
// has the size of messages that close a session (closing tells).
func (b *burst) closingOnly(closing func(int) bool) bool {
	if closing == nil || b.segs > len(b.sizes) {
		return false
	}
	for _, n := range b.sizes[:b.segs] {
		if n == 0 || !closing(n) {
			return false
		}
	}
	return true
}

// burstGap is the least silence before data that starts a new burst.
const burstGap = time.Second

// dataLog is the connection's non-keepalive data, for the end diagnosis:
// the last data segment that is no probe candidate nor a reply to one, and
// the last few bursts (data after at least burstGap of no data).
type dataLog struct {
	lastReal time.Time
	realSeen bool
	lastBy   [2]time.Time // each end's last non-keepalive data (zero: none)
	atEnd    time.Time    // the last data (or pending candidate) when the first FIN or RST came
	byAtEnd  [2]time.Time // the same, each end's
	// peerQuiet[d]: at d's latest data, how long its peer had sent none;
	// quietAtEnd the same when the first FIN or RST came.
	peerQuiet  [2]time.Duration
	quietAtEnd [2]time.Duration
	bursts     [4]burst
	nBursts    int
}

// note records non-keepalive data sent by d at at, size bytes (0: part of
// a segment with a keepalive). Calls come in time order: a candidate
// settles before any later data is noted. first is the connection's first
// packet; synSeen says whether the capture holds its start.
func (l *dataLog) note(d Role, at, first time.Time, synSeen bool, size int) {
	l.peerQuiet[d] = since(at, first)
	if p := l.lastBy[d.Peer()]; !p.IsZero() {
		l.peerQuiet[d] = since(at, p)
	}
	defer func() { l.lastBy[d] = at }()
	if l.realSeen && since(at, l.lastReal) < burstGap {
		if at.After(l.lastReal) {
			l.lastReal = at
		}
		if b := &l.bursts[0]; b.by == d {
			b.add(size)
		}
		return
	}
	b := burst{at: at, by: d}
	b.add(size)
	if l.realSeen {
		b.idle = since(at, l.lastReal)
	} else {
		b.idle, b.atLeast = since(at, first), !synSeen
	}
	b.peerQuiet = since(at, first)
	if p := l.lastBy[d.Peer()]; !p.IsZero() {
		b.peerQuiet = since(at, p)
	}
	copy(l.bursts[1:], l.bursts[:len(l.bursts)-1])
	l.bursts[0] = b
	l.nBursts++
	l.lastReal, l.realSeen = at, true
}

// Thresholds of the candidate tracking.
const (
	// loneGap: a probe is a lone message; an unanswered one its sender
	// followed with more data this soon is something else (an exit-status
	// before EOF and CLOSE).
	loneGap = 500 * time.Millisecond
	// paddingGap: AsyncSSH sends an empty SSH_MSG_IGNORE in a segment of
	// its own just before each packet (0.2–1.4 ms on the wire).
	paddingGap = 5 * time.Millisecond
	// zlibOverhead bounds what deflate adds to a message it cannot shrink
	// (the first copy of a keepalive: block header and sync flush). A
	// compressed candidate may also carry one small message beside it.
	zlibOverhead = 10
	// closeAnswer: a message this soon after the peer's data answers it.
	closeAnswer = 50 * time.Millisecond
)

// onData tracks SSH probe candidates: a small segment after the peer's
// silence, and the first data the peer sends back.
func (f *flow) onData(x tcpFact, ev int32) {
	d, at, n := x.from, x.at, x.newBytes
	p := d.Peer()
	cs := &f.cands
	isReply := false
	if cs.hasPd[p] {
		c := cs.pend[p]
		lat := since(at, c.at)
		// With exact sizes, data that cannot be the reply leaves a request
		// waiting for it (output streaming past a keepalive).
		win := f.tcp.replyWindow()
		if !(lat <= win && c.quiet() && f.ssh.awaitsReply(p, c.size) && !f.ssh.isReplySize(p, n)) {
			answered := false
			if lat <= win {
				c.answered, c.replySize, c.latency, c.replyEv = true, n, lat, ev
				answered = true
			}
			cs.hasPd[p] = false
			isReply = f.settle(p, c) && answered
		}
	}
	if cs.hasPd[d] {
		c := &cs.pend[d]
		gap := since(at, c.at)
		c.crowded = gap < loneGap
		switch {
		case f.padding(d, c.size, gap):
			cs.hasPd[d] = false // neither data nor a probe
		case c.quiet() && f.ssh.awaitsReply(d, c.size) && (c.crowded || gap <= f.tcp.replyWindow() && !f.ssh.awaitsReply(d, n)):
			// The request still awaits its reply (this data is no next
			// probe); this data was sent while it did, so it is no lone
			// probe itself.
			f.busy(d, x, ev, isReply)
			return
		default:
			f.settle(d, *c) // sent again before any reply
			cs.hasPd[d] = false
		}
	}
	if n > maxProbeBytes || f.ssh.clearText(d) {
		f.noteData(d, at, n)
		return
	}
	cs.pend[d] = f.candidate(x, ev, isReply)
	cs.hasPd[d] = true
}

// candidate makes a probe candidate of new data.
func (f *flow) candidate(x tcpFact, ev int32, isReply bool) sshCand {
	d, at := x.from, x.at
	p := d.Peer()
	idle := unknownIdle
	switch {
	case f.tcp.dir[p].dataSeen:
		idle = since(at, f.tcp.dir[p].lastData)
	case f.tcp.synSeen:
		idle = since(at, f.tcp.first)
	}
	return sshCand{at: at, size: x.newBytes, idle: f.ssh.timer[d].idle(idle, x.sentIdle),
		probeEv: ev, replyEv: -1, seq: x.seq, reply: isReply,
		afterPeer: idle != unknownIdle && idle <= closeAnswer}
}

// busy files data d sent while its earlier request awaited a reply: a
// crowded candidate if it has a probe's size, else data.
func (f *flow) busy(d Role, x tcpFact, ev int32, isReply bool) {
	if x.newBytes > maxProbeBytes || f.ssh.clearText(d) {
		f.noteData(d, x.at, x.newBytes)
		return
	}
	c := f.candidate(x, ev, isReply)
	c.crowded = true
	f.settle(d, c)
}

// padding reports whether d's pending segment of size n, followed by more
// from d after gap, is AsyncSSH's empty SSH_MSG_IGNORE before a packet.
func (f *flow) padding(d Role, n int, gap time.Duration) bool {
	sp := f.ssh.specs[d]
	return f.ssh.impl[d] == ImplAsyncSSH && gap <= paddingGap && sp.sized && n <= sp.WireSize(payloadIgnore)
}

// settle files a candidate that has met its reply (or the next data): kept
// as a possible probe, or else noted as data. It reports whether it was kept.
func (f *flow) settle(d Role, c sshCand) bool {
	if f.addCand(d, c) {
		return true
	}
	if !c.reply {
		f.noteData(d, c.at, c.size)
	}
	return false
}

// settlePending settles both senders' pending candidates: the connection
// is being summarised as of at. On an open connection a candidate whose
// reply is not yet due is pending, not unanswered.
func (f *flow) settlePending(at time.Time) {
	for _, d := range []Role{Client, Server} {
		if f.cands.hasPd[d] {
			c := f.cands.pend[d]
			c.pending = f.tcp.end.How == "" && since(at, c.at) < f.tcp.replyWindow()
			f.settle(d, c)
			f.cands.hasPd[d] = false
		}
	}
}

// noteData records non-keepalive data sent by d at at, size bytes of it
// (0: part of a segment that held a keepalive too).
func (f *flow) noteData(d Role, at time.Time, size int) {
	f.activity.add(at, MarkData<<d)
	f.data.note(d, at, f.tcp.first, f.tcp.synSeen, size)
}

// maxKept bounds what a connection keeps per direction: its SSH probe
// candidates (about 90 bytes each) and its TCP keepalives (about 50): a
// probe a second for 18 hours, or every 15 s for 11 days. Past it, a
// hostile stream of probe-sized messages (a million took 117 MiB) is
// counted and not classified.
const maxKept = MaxKept

// MaxKept is what a connection keeps per direction (see maxKept).
const MaxKept = 1 << 16

// addCand keeps a settled candidate if its size can be a probe at all, so a
// connection's memory grows with its probes, not with its keystrokes. It
// reports whether it kept it.
func (f *flow) addCand(d Role, c sshCand) bool {
	switch {
	case f.ssh.exactKnown():
		if !f.keepable(d, c) {
			return false
		}
	case f.ssh.compressedKnown():
		// sizes are learned: a message no larger than a keepalive with
		// deflate's overhead, answered after a silence or retransmitted
		// (no answer needed from an implementation whose keepalive has none)
		sp := f.ssh.specs[d]
		noReply := f.ssh.noReplyKeepalive(d)
		if c.size > sp.WireSize(payloadChannelKeepalive+zlibOverhead)+sp.WireSize(payloadChannelFailure) ||
			!c.answered && c.retrans == 0 && !noReply || c.idle != unknownIdle && c.idle < minIdle && !noReply {
			return false
		}
	case !probeSizes[c.size]:
		return false
	}
	if len(f.cands.list[d]) >= maxKept {
		f.over++ // counted as a possible probe, not classified
		return true
	}
	f.cands.list[d] = append(f.cands.list[d], c)
	if f.ssh.exactKnown() && f.besideData(d, c) {
		f.noteData(d, c.at, 0) // the keystroke that left with the probe
	}
	return true
}

// besideData reports whether c, kept with exact sizes, is larger than any
// of d's keepalives: other data shares its segment.
func (f *flow) besideData(d Role, c sshCand) bool {
	for _, sh := range f.ssh.shapes[d] {
		if c.size <= sh.probe {
			return false
		}
	}
	return true
}

// keepable reports whether, with exact sizes, c can be one of d's
// keepalives: a want-reply probe's size after a silence (or answered), a
// global request coalesced with other data, or a no-reply keepalive's size
// (alone or beside keystrokes), whose schedule is judged later.
func (f *flow) keepable(d Role, c sshCand) bool {
	recv := f.ssh.specs[d.Peer()]
	for _, sh := range f.ssh.shapes[d] {
		switch {
		case sh.reply == 0 && (c.size == sh.probe || besideKeystrokes(c.size, sh.probe, f.ssh.specs[d])):
			return true
		case sh.reply > 0 && c.size == sh.probe && (c.answered || c.idle == unknownIdle || c.idle >= minIdle):
			return true
		case sh.reply > 0 && coalesced(c, sh, recv):
			return true
		}
	}
	return false
}

// coalesced reports whether c is a global-request probe that left in one
// segment with other data (ssh writes a probe and a keystroke together),
// answered by a REQUEST_FAILURE whose size nothing else common has: no
// CHANNEL_FAILURE and no one-byte CHANNEL_DATA (keystroke echo).
func coalesced(c sshCand, sh keepaliveShape, recv CipherSpec) bool {
	r := sh.reply
	return sh.msg == MsgGlobalRequest && c.answered && c.replySize == r && c.size > sh.probe && c.size-sh.probe <= maxProbeBytes &&
		r != recv.WireSize(payloadChannelFailure) && r != recv.WireSize(payloadChannelData1)
}

// besideKeystrokes reports whether size is a probe of size probe sharing
// its segment with one or two keystrokes (one-byte CHANNEL_DATA): PuTTY
// writes its SSH_MSG_IGNORE when its main loop wakes, often for a key.
func besideKeystrokes(size, probe int, send CipherSpec) bool {
	k := send.WireSize(payloadChannelData1)
	return size == probe+k || size == probe+2*k
}
