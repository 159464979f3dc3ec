package analyze

import (
	"net/netip"
	"slices"
	"time"
)

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

// unknownIdle marks a candidate seen before the peer sent anything in a
// capture that started mid-connection: the silence before it is unknown.
const unknownIdle = time.Duration(-1)

// sshCand is a segment that may be an SSH keepalive probe: small, new data
// after the peer was silent. Whether it is one is decided when the
// connection is summarised, from its size, its reply and its siblings.
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

type tcpProbe struct {
	at       time.Time
	bytes    int
	idle     time.Duration // since the prober last heard from its peer
	answered bool
	ev       int32
}

type flow struct {
	key        pairKey
	list       *flowList // the Tracker's open or closed list
	prev, next *flow

	client, server netip.AddrPort
	guessed        bool // orientation guessed from port order; a banner may fix it
	first, last    time.Time
	packets        int
	synSeen        bool
	longestIdle    time.Duration

	dir [2]dirState
	hs  [2]handshake

	specsDone bool
	specs     [2]CipherSpec
	specOK    [2]bool
	shapes    [2][2]keepaliveShape // per sender, once specs are known

	pend  [2]sshCand
	hasPd [2]bool
	cands [2][]sshCand

	tcpPend   [2]int // index+1 into tcp[d] of the probe awaiting its ACK
	tcp       [2][]tcpProbe
	lastHeard [2]time.Time // last segment each end received from its peer

	end End

	// Non-keepalive data, for the end diagnosis: the last data segment that
	// is no probe candidate nor a reply to one, and the last few bursts
	// (data after at least burstGap of no data; keepalives do not count).
	lastReal time.Time
	realSeen bool
	bursts   [4]burst
	nBursts  int
	out      [2]outstanding // per sender: data the peer has not acknowledged
	activity Activity
	prevIdle time.Duration // longestIdle before the current segment's gap

	events bool
	maxEv  int // cap on recorded events (0: none)
	evN    int // events seen, recorded or not
	evs    []Event
}

// burst is a run of data after a silence.
type burst struct {
	at      time.Time
	by      Role
	idle    time.Duration // silence (no data either way) before it
	atLeast bool          // no data before it in the capture: idle is a lower bound
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

func (f *flow) closed() bool {
	return f.end.How == "rst" || (f.dir[0].fin && f.dir[1].fin)
}

func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

func (f *flow) observe(seg *Segment) {
	d := Client
	if seg.Src != f.client {
		d = Server
	}
	gap := time.Duration(0)
	f.prevIdle = f.longestIdle
	if f.packets > 0 {
		if seg.At.Before(f.last) {
			// Time running backwards (a clock step, merged captures):
			// for this connection it stands still instead.
			seg.At = f.last
		}
		if gap = seg.At.Sub(f.last); gap > f.longestIdle {
			f.longestIdle = gap
		}
	}
	f.packets++
	if seg.At.After(f.last) {
		f.last = seg.At
	}
	ev := int32(-1)
	if f.events {
		ev = f.record(Event{At: seg.At, From: d, Seq: seg.Seq, Ack: seg.Ack, Flags: seg.Flags, Window: seg.Window, PayloadLen: seg.PayloadLen})
	}
	ds, ps := &f.dir[d], &f.dir[d.Peer()]
	fl := seg.Flags

	if fl.Has(FlagSYN) {
		f.synSeen = true
		ds.next, ds.hasNext = seg.Seq+1, true
		f.hs[d].start(seg.Seq + 1)
	}
	if fl&(FlagFIN|FlagRST) != 0 && f.end.How == "" {
		f.end = End{How: "fin", By: d, At: seg.At}
		if fl.Has(FlagRST) {
			f.end.How = "rst"
		}
	}

	// TCP keepalive: 0 or 1 byte at next-1, nothing else (FACTS §1, §4).
	plain := fl&(FlagSYN|FlagFIN|FlagRST) == 0 && fl.Has(FlagACK)
	label := LabelNone
	if plain && ds.hasNext && seg.PayloadLen <= 1 && seg.Seq == ds.next-1 &&
		seg.At.Sub(ds.lastSeg) >= tcpProbeMinGap && (!ps.hasAck || ps.ack == ds.next) {
		if ps.seen && ps.window == 0 {
			label = LabelWindowProbe
		} else {
			label = LabelTCPProbe
			idle := time.Duration(0)
			if !f.lastHeard[d].IsZero() {
				idle = seg.At.Sub(f.lastHeard[d])
			}
			f.tcp[d] = append(f.tcp[d], tcpProbe{at: seg.At, bytes: seg.PayloadLen, idle: idle, ev: ev})
			f.tcpPend[d] = len(f.tcp[d])
		}
	} else if plain && seg.PayloadLen == 0 && f.tcpPend[d.Peer()] > 0 && seg.Ack == ps.next &&
		(!ds.hasNext || seg.Seq == ds.next) {
		p := &f.tcp[d.Peer()][f.tcpPend[d.Peer()]-1]
		if seg.At.Sub(p.at) <= replyWindow*2 {
			p.answered = true
			label = LabelTCPProbeAck
		}
		f.tcpPend[d.Peer()] = 0
	}

	// New payload bytes, counting retransmitted ones once.
	newBytes := 0
	if label == LabelNone && seg.PayloadLen > 0 {
		end := seg.Seq + uint32(seg.PayloadLen)
		switch {
		case !ds.hasNext || !seqLess(ds.next, seg.Seq) && seqLess(ds.next, end) || seqLess(ds.next, seg.Seq):
			start := seg.Seq
			if ds.hasNext && seqLess(seg.Seq, ds.next) {
				start = ds.next
			}
			newBytes = int(end - start)
			ds.next, ds.hasNext = end, true
		default:
			label = LabelRetransmission
			if f.hasPd[d] && f.pend[d].seq == seg.Seq {
				f.pend[d].retrans++
			}
			if o := &f.out[d]; o.on {
				o.retrans++
				o.lastRetrans = seg.At
			}
			f.activity.add(seg.At, MarkRetrans)
		}
		if f.hs[d].state < hsEncrypted {
			f.hs[d].feed(seg.Seq, seg.Payload, seg.PayloadLen, len(seg.Payload) == seg.PayloadLen)
			if f.guessed && f.hs[d].banner.Proto != "" && d == Client && f.hs[Server].banner.Proto == "" && !f.synSeen {
				// The first banner on a connection of unknown orientation
				// comes from the server.
				f.swap()
				d, ds = Server, &f.dir[Server]
			}
		}
	} else if !ds.hasNext {
		ds.next, ds.hasNext = seg.Seq, true
	}
	if fl.Has(FlagFIN) {
		end := seg.Seq + uint32(seg.PayloadLen) + 1
		if !seqLess(end, ds.next) {
			ds.next = end
		}
		ds.fin = true
	}
	if (newBytes > 0 || fl.Has(FlagFIN)) && !f.out[d].on {
		f.out[d] = outstanding{on: true, at: seg.At, gap: gap, survived: f.prevIdle, heard: f.dir[d.Peer()].lastSeg}
	}
	if fl.Has(FlagACK) {
		ds.ack, ds.hasAck = seg.Ack, true
		if o := &f.out[d.Peer()]; o.on && ps.hasNext && !seqLess(seg.Ack, ps.next) {
			o.on = false
		}
	}
	ds.window = seg.Window
	ds.seen = true
	ds.lastSeg = seg.At
	f.lastHeard[d.Peer()] = seg.At
	if e := f.evAt(ev); e != nil {
		e.Label = label
	}
	if newBytes > 0 {
		f.onData(d, seg.At, newBytes, ds.next-uint32(newBytes), ev)
		ds.lastData, ds.dataSeen = seg.At, true
	}
}

// swap exchanges the roles of the two ends (orientation was a guess).
func (f *flow) swap() {
	f.client, f.server = f.server, f.client
	f.dir[0], f.dir[1] = f.dir[1], f.dir[0]
	f.hs[0], f.hs[1] = f.hs[1], f.hs[0]
	f.lastHeard[0], f.lastHeard[1] = f.lastHeard[1], f.lastHeard[0]
	f.out[0], f.out[1] = f.out[1], f.out[0]
	for i := range f.evs {
		f.evs[i].From = f.evs[i].From.Peer()
	}
	f.guessed = false
}

// onData tracks SSH probe candidates: a small segment after the peer's
// silence, and the first data the peer sends back.
func (f *flow) onData(d Role, at time.Time, n int, seq uint32, ev int32) {
	p := d.Peer()
	isReply := false
	if f.hasPd[p] {
		c := f.pend[p]
		answered := false
		if lat := at.Sub(c.at); lat <= replyWindow {
			c.answered, c.replySize, c.latency, c.replyEv = true, n, lat, ev
			answered = true
		}
		f.hasPd[p] = false
		isReply = f.settle(p, c) && answered
	}
	if f.hasPd[d] {
		f.settle(d, f.pend[d]) // sent again before any reply
		f.hasPd[d] = false
	}
	if n > maxProbeBytes || f.hs[d].started && f.hs[d].state < hsEncrypted {
		f.noteData(d, at)
		return
	}
	idle := unknownIdle
	switch {
	case f.dir[p].dataSeen:
		idle = at.Sub(f.dir[p].lastData)
	case f.synSeen:
		idle = at.Sub(f.first)
	}
	f.pend[d] = sshCand{at: at, size: n, idle: idle, probeEv: ev, replyEv: -1, seq: seq, reply: isReply}
	f.hasPd[d] = true
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

// burstGap is the least silence before data that starts a new burst.
const burstGap = time.Second

// noteData records non-keepalive data sent by d at at. Calls come in time
// order: a candidate settles before any later data is noted.
func (f *flow) noteData(d Role, at time.Time) {
	f.activity.add(at, MarkData<<d)
	if f.realSeen && at.Sub(f.lastReal) < burstGap {
		if at.After(f.lastReal) {
			f.lastReal = at
		}
		return
	}
	b := burst{at: at, by: d}
	if f.realSeen {
		b.idle = at.Sub(f.lastReal)
	} else {
		b.idle, b.atLeast = at.Sub(f.first), !f.synSeen
	}
	copy(f.bursts[1:], f.bursts[:len(f.bursts)-1])
	f.bursts[0] = b
	f.nBursts++
	f.lastReal, f.realSeen = at, true
}

// exactKnown reports whether both directions' ciphers are known, so probe
// and reply sizes are exact; it negotiates them once both KEXINITs are in.
func (f *flow) exactKnown() bool {
	if !f.specsDone && f.hs[Client].hasKex && f.hs[Server].hasKex {
		f.specsDone = true
		f.specs, f.specOK = negotiateSpecs(f.hs[Client].kex, f.hs[Server].kex)
		if f.specOK[Client] && f.specOK[Server] {
			f.shapes[Client] = shapes(f.specs[Client], f.specs[Server])
			f.shapes[Server] = shapes(f.specs[Server], f.specs[Client])
		}
	}
	return f.specOK[Client] && f.specOK[Server]
}

// addCand keeps a settled candidate if its size can be a probe at all, so a
// connection's memory grows with its probes, not with its keystrokes. It
// reports whether it kept it.
func (f *flow) addCand(d Role, c sshCand) bool {
	if f.exactKnown() {
		sh := f.shapes[d]
		if c.size != sh[0].probe && c.size != sh[1].probe && !coalesced(c, sh, f.specs[d.Peer()]) {
			return false
		}
		if !c.answered && c.idle != unknownIdle && c.idle < minIdle {
			return false
		}
	} else if !probeSizes[c.size] {
		return false
	}
	f.cands[d] = append(f.cands[d], c)
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

// clone copies the flow deeply enough that summarising the copy leaves the
// original untouched.
func (f *flow) clone() *flow {
	cp := *f
	for d := range f.cands {
		cp.cands[d] = slices.Clone(f.cands[d])
		cp.tcp[d] = slices.Clone(f.tcp[d])
	}
	cp.evs = slices.Clone(f.evs)
	return &cp
}

// carried reports whether the connection has shown data or a keepalive.
func (f *flow) carried() bool {
	return f.dir[Client].dataSeen || f.dir[Server].dataSeen || len(f.tcp[Client])+len(f.tcp[Server]) > 0
}

// record appends e to the timeline and returns its index. With a cap, the
// first half of the cap keeps the connection's first events and the second
// half is a ring of its latest ones.
func (f *flow) record(e Event) int32 {
	i := f.evN
	f.evN++
	if f.maxEv <= 0 || i < f.maxEv {
		f.evs = append(f.evs, e)
		return int32(i)
	}
	head := f.maxEv - f.maxEv/2
	f.evs[head+(i-head)%(f.maxEv/2)] = e
	return int32(i)
}

// evAt returns the recorded event of index i, or nil (none, or overwritten).
func (f *flow) evAt(i int32) *Event {
	n := int(i)
	if i < 0 || n >= f.evN {
		return nil
	}
	if f.maxEv <= 0 || n < f.maxEv-f.maxEv/2 || f.evN <= f.maxEv {
		return &f.evs[n]
	}
	head, ring := f.maxEv-f.maxEv/2, f.maxEv/2
	if n < f.evN-ring {
		return nil
	}
	return &f.evs[head+(n-head)%ring]
}

// timeline returns the recorded events in order and how many were left out.
func (f *flow) timeline() ([]Event, int) {
	if f.maxEv <= 0 || f.evN <= f.maxEv {
		return f.evs, 0
	}
	head, ring := f.maxEv-f.maxEv/2, f.maxEv/2
	out := make([]Event, 0, f.maxEv)
	out = append(out, f.evs[:head]...)
	for n := f.evN - ring; n < f.evN; n++ {
		out = append(out, f.evs[head+(n-head)%ring])
	}
	return out, f.evN - len(out)
}
