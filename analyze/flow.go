package analyze

import (
	"net/netip"
	"slices"
	"time"
)

// flow is one connection: the stages' state (TCP, SSH) and the consumers'
// (probe candidates, TCP keepalives, data log, activity, timeline). observe
// runs a segment through the stages in order and hands their facts to the
// consumers; summarise turns the whole into a Conn.
type flow struct {
	key        pairKey
	list       *flowList // the Tracker's fresh, open or closed list
	prev, next *flow

	client, server netip.AddrPort
	guessed        bool // orientation guessed from port order; a banner may fix it

	tcp tcpConn // TCP stage
	ssh sshConn // SSH stage

	cands    candidates    // SSH probe candidates
	tcpProbe [2][]tcpProbe // TCP keepalives per prober
	// over counts candidates and TCP probes past maxKept in a direction:
	// counted, not classified. tcpOver[d]: d's latest TCP probe was one.
	over     int
	tcpOver  [2]bool
	data     dataLog  // non-keepalive data
	activity Activity // the fixed-size sketch
	tl       timeline // every packet, when asked for

	// implied is the cipher the keepalives' sizes point to when the
	// handshake was not captured (set when the connection is summarised).
	implied CipherSpec
}

// observe runs seg through the TCP stage, then the SSH stage, then the
// consumers.
func (f *flow) observe(seg *Segment) {
	d := Client
	if seg.Src != f.client {
		d = Server
	}
	ending := f.tcp.end.How == ""
	x := f.tcp.observe(seg, d)
	if ending && f.tcp.end.How != "" {
		f.data.atEnd = f.lastDataBefore()
	}
	ev := f.tl.record(Event{At: x.at, From: d, Seq: seg.Seq, Ack: seg.Ack, Flags: seg.Flags, Window: seg.Window, PayloadLen: seg.PayloadLen})
	if seg.Flags.Has(FlagSYN) {
		f.ssh.syn(d, seg.Seq)
	}
	if x.kind == segData || x.kind == segRetrans {
		f.ssh.segment(d, seg)
		// The first banner on a connection of unknown orientation comes
		// from the server.
		if f.guessed && d == Client && !f.tcp.synSeen && f.ssh.bannerFirst(Client) {
			f.swap()
			x.from = Server
		}
	}
	f.consume(x, ev)
}

// lastDataBefore records, when the first FIN or RST comes, each end's
// last non-keepalive data so far, counting the candidates still pending
// (they may be data) but not a keepalive's reply, and returns the later:
// the silence before a close.
func (f *flow) lastDataBefore() time.Time {
	t := time.Time{}
	for d := range f.data.byAtEnd {
		f.data.byAtEnd[d], f.data.quietAtEnd[d] = f.data.lastBy[d], f.data.peerQuiet[d]
		if c := f.cands.pend[d]; f.cands.hasPd[d] && !c.reply && c.at.After(f.data.byAtEnd[d]) {
			f.data.byAtEnd[d] = c.at
			f.data.quietAtEnd[d] = since(c.at, f.tcp.first)
			if p := f.data.lastBy[Role(d).Peer()]; !p.IsZero() {
				f.data.quietAtEnd[d] = since(c.at, p)
			}
		}
		if f.data.byAtEnd[d].After(t) {
			t = f.data.byAtEnd[d]
		}
	}
	return t
}

// consume hands the stages' facts about one segment to the consumers.
func (f *flow) consume(x tcpFact, ev int32) {
	switch x.kind {
	case segTCPProbe:
		if f.tcpOver[x.from] = len(f.tcpProbe[x.from]) >= maxKept; f.tcpOver[x.from] {
			f.over++
			break
		}
		f.tcpProbe[x.from] = append(f.tcpProbe[x.from], tcpProbe{at: x.at, bytes: x.size, idle: x.idle, ev: ev})
	case segTCPProbeAck:
		if ps := f.tcpProbe[x.from.Peer()]; len(ps) > 0 && !f.tcpOver[x.from.Peer()] {
			ps[len(ps)-1].answered = true
		}
	case segRetrans:
		f.cands.retrans(x.from, x.seq)
		f.activity.add(x.at, MarkRetrans)
	}
	f.tl.label(ev, x.kind.label())
	if x.newBytes > 0 {
		f.onData(x, ev)
	}
}

// swap exchanges the roles of the two ends (orientation was a guess).
func (f *flow) swap() {
	f.client, f.server = f.server, f.client
	f.tcp.swap()
	f.ssh.swap()
	for i := range f.tl.evs {
		f.tl.evs[i].From = f.tl.evs[i].From.Peer()
	}
	f.guessed = false
}

func (f *flow) closed() bool { return f.tcp.closed() }

// clone copies the flow deeply enough that summarising the copy leaves the
// original untouched.
func (f *flow) clone() *flow {
	cp := *f
	for d := range f.cands.list {
		cp.cands.list[d] = slices.Clone(f.cands.list[d])
		cp.tcpProbe[d] = slices.Clone(f.tcpProbe[d])
	}
	cp.tl.evs = slices.Clone(f.tl.evs)
	return &cp
}

// carried reports whether the connection has shown data or a keepalive.
func (f *flow) carried() bool {
	return f.tcp.dir[Client].dataSeen || f.tcp.dir[Server].dataSeen || len(f.tcpProbe[Client])+len(f.tcpProbe[Server]) > 0
}

// summarise settles the connection's candidates and returns its summary as
// of at (the capture's end, or now in a live capture); ok is false for a
// connection that never carried data nor a keepalive.
func (f *flow) summarise(at time.Time) (Conn, bool) {
	if !f.carried() && f.tcp.synSeen {
		return Conn{}, false
	}
	f.settlePending(at)
	c := Conn{
		Client: f.client, Server: f.server,
		FirstSeen: f.tcp.first, LastSeen: f.tcp.last,
		Packets: f.tcp.packets, Handshake: f.tcp.synSeen,
		End:          f.tcp.end,
		LongestIdle:  f.tcp.longestIdle,
		RTT:          f.tcp.rtt(),
		Unclassified: f.over,
	}
	if c.End.How == "" {
		c.End = End{How: "open", At: f.tcp.last}
	}
	for d := range f.ssh.hs {
		c.Banners[d] = f.ssh.hs[d].banner.String()
		c.Implementations[d] = f.ssh.hs[d].banner.Implementation()
	}
	f.ssh.exactKnown()
	c.Ciphers, c.CipherKnown = f.ssh.specs, f.ssh.specOK
	c.Compressed = f.ssh.compressedKnown()
	c.NotSSH = f.notSSH()
	for _, d := range []Role{Client, Server} {
		if !c.NotSSH {
			c.SSH = append(c.SSH, f.sshKeepalives(d)...)
		}
		if k, ok := f.tcpKeepalives(d); ok {
			c.TCP = append(c.TCP, k)
		}
	}
	server := f.ssh.hs[Server].banner
	c.Inferred = infer(&c, server, f.tcpProbe)
	c.End = diagnose(f.endFacts(&c))
	c.Risk = risk(&c)
	if !c.NotSSH {
		c.Recommendations = recommend(&c, server.sshd92())
	}
	c.Activity = f.activity
	c.Activity.mark(&c)
	c.Events, c.EventsDropped = f.tl.events()
	return c, true
}

// notSSH reports whether the wire rules SSH out: the connection's start is
// captured, the client's first line is not a banner and the server sent
// none. Without the start (or with the banner cut by the snaplen) nothing
// is ruled out.
func (f *flow) notSSH() bool {
	hs := f.ssh.hs
	return f.tcp.synSeen && hs[Client].started && hs[Client].banner.Proto == "" && hs[Client].otherLines > 0 && hs[Server].banner.Proto == ""
}
