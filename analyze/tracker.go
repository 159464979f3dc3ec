package analyze

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"
)

// Config tunes a Tracker. The zero value is usable.
type Config struct {
	// Ports are the SSH server ports, used to tell client from server when
	// the SYN is not in the capture. Default: 22.
	Ports []uint16
	// IdleTimeout summarises and forgets a connection with no packet for this
	// long (packet time). Default 3 h: longer than the kernel's 2 h TCP
	// keepalive time, so even TCPKeepAlive-only sessions are kept whole.
	IdleTimeout time.Duration
	// MaxConns caps the connection table; the least recently seen
	// connections are summarised early when it is full. Default 100000.
	MaxConns int
	// Events records every packet of each connection, labelled, for a
	// timeline. Memory then grows with the capture, unless MaxEvents caps it.
	Events bool
	// MaxEvents caps the events kept per connection (0: no cap): its first
	// MaxEvents/2 packets and its last MaxEvents/2 are kept.
	MaxEvents int
	// ClosedLinger keeps a closed connection (FIN both ways, or RST) this
	// long for stray packets (the last ACK, retransmitted FINs) before it is
	// summarised. Default 30 s; a live capture, which reports connections as
	// they end, uses a couple of seconds.
	ClosedLinger time.Duration
	// HandshakeBudget bounds the bytes all the Tracker's clear-text
	// handshakes hold together (0: 16 MiB). Trackers that share the work
	// of one analysis (Shards) split it.
	HandshakeBudget int
}

// Thresholds of the classifier.
const (
	// minIdle is the least silence from the peer before a probe: keepalive
	// intervals are whole seconds and ssh fires its first one early (FACTS,
	// "Seen on real captures": 1.2–1.95 s for an interval of 2).
	minIdle = 900 * time.Millisecond
	// replyWindow bounds the time from a probe to its reply on a fast path;
	// on a slow one it grows to 2 × RTT + replySlack (tcpConn.replyWindow).
	replyWindow = time.Second
	replySlack  = 250 * time.Millisecond
	// maxProbeBytes is larger than any keepalive under any cipher (116).
	maxProbeBytes = 128
	// tcpProbeMinGap is the least silence from the prober before a TCP
	// keepalive: kernels allow no keepalive interval below 1 s.
	tcpProbeMinGap = 500 * time.Millisecond
	// closedLinger is Config.ClosedLinger's default.
	closedLinger = 30 * time.Second
	// freshTimeout forgets a connection that carried no data and no
	// keepalive for this long (an unanswered SYN, a scan).
	freshTimeout = 2 * time.Minute
	// clockJump: a segment stamped this far ahead of the others moves the
	// tracker's clock (which expires connections) only once the next one
	// confirms it; one packet stamped in the future must not expire every
	// connection at once.
	clockJump = time.Minute
	// A sweep for idle and closed connections runs every sweepEvery
	// segments or sweepPeriod of packet time, whichever comes first.
	sweepEvery  = 4096
	sweepPeriod = time.Second
)

// Tracker follows TCP connections and classifies their keepalives. It is not
// safe for concurrent use.
//
// Open and closed connections sit in two lists ordered by their last packet
// (most recent first), so expiring idle or closed connections and evicting
// the least recently seen one cost nothing per packet and O(1) each.
type Tracker struct {
	cfg      Config
	ports    map[uint16]bool
	flows    map[pairKey]*flow
	last     *flow    // the flow of the previous segment: bulk transfers repeat it
	fresh    flowList // no data or keepalive yet: SYNs, scans, bare ACKs
	open     flowList
	closed   flowList
	done     []Conn
	attempts attempts // 4-tuples seen only as SYNs and SYN/ACKs (attempts.go)
	hsBudget hsBudget // every connection's clear-text handshake buffers
	segments int64
	evicted  int
	noData   int
	sinceSwp int
	lastSwp  time.Time
	now      time.Time // the packets' clock: the latest time a segment showed (and confirmed)
	jump     time.Time // a time more than clockJump ahead of now, awaiting confirmation
}

// pairKey names a connection whichever way a segment goes: its two
// endpoints in a fixed order, as plain integers, which hash faster than
// netip values (those carry a zone handle).
type pairKey struct {
	a, b endpointKey
}

type endpointKey struct {
	hi, lo uint64
	port   uint16
}

func endpointOf(ap netip.AddrPort) endpointKey {
	b := ap.Addr().As16()
	return endpointKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), ap.Port()}
}

func (e endpointKey) less(o endpointKey) bool {
	if e.hi != o.hi {
		return e.hi < o.hi
	}
	if e.lo != o.lo {
		return e.lo < o.lo
	}
	return e.port < o.port
}

func keyOf(x, y netip.AddrPort) pairKey {
	a, b := endpointOf(x), endpointOf(y)
	if b.less(a) {
		a, b = b, a
	}
	return pairKey{a, b}
}

// NewTracker returns a Tracker with cfg's defaults filled in.
func NewTracker(cfg Config) *Tracker {
	if len(cfg.Ports) == 0 {
		cfg.Ports = []uint16{22}
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 3 * time.Hour
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 100000
	}
	if cfg.ClosedLinger <= 0 {
		cfg.ClosedLinger = closedLinger
	}
	t := &Tracker{cfg: cfg, ports: map[uint16]bool{}, flows: map[pairKey]*flow{}}
	for _, p := range cfg.Ports {
		t.ports[p] = true
	}
	return t
}

// Observe records seg. It never reads the wall clock: idle connections
// expire relative to seg.At.
func (t *Tracker) Observe(seg Segment) {
	t.segments++
	k := pairKey{}
	if f := t.last; f != nil && (seg.Src == f.client && seg.Dst == f.server || seg.Src == f.server && seg.Dst == f.client) {
		k = f.key // the previous segment's connection: no key to build
	} else {
		k = keyOf(seg.Src, seg.Dst)
	}
	t.route(k, seg, true)
	if now, ok := t.clock(seg.At); ok {
		if t.sinceSwp++; t.sinceSwp >= sweepEvery || since(now, t.lastSwp) >= sweepPeriod {
			t.Advance(now)
		}
	}
}

// route hands seg to its connection's flow, making one if needed; with
// attempts, a handshake segment of a 4-tuple without a flow is kept as an
// attempt instead (attempts.go).
func (t *Tracker) route(k pairKey, seg Segment, attempts bool) {
	f := t.last
	if f == nil || f.key != k {
		f = t.flows[k]
	}
	if f == nil && attempts {
		if t.attempt(k, &seg) {
			return
		}
		f = t.flows[k] // the attempt, replayed into a flow
	}
	if f != nil && f.tcp.reopens(&seg) {
		t.finish(f, false) // the 4-tuple is reused by a new connection
		f = nil
	}
	if f == nil {
		if t.tracked() >= t.cfg.MaxConns {
			t.evictOldest()
		}
		f = t.newFlow(seg)
		f.key = k
		t.flows[k] = f
		t.fresh.pushFront(f)
	}
	t.last = f
	f.observe(&seg)
	switch {
	case f.list != &t.closed && f.closed():
		f.list.remove(f)
		t.closed.pushFront(f)
	case f.list == &t.fresh && f.carried():
		t.fresh.remove(f)
		t.open.pushFront(f)
	default:
		f.list.moveToFront(f)
	}
}

// clock moves the tracker's clock with a segment's time at; ok is false
// while at is an unconfirmed jump ahead.
func (t *Tracker) clock(at time.Time) (time.Time, bool) {
	switch {
	case t.now.IsZero() || !at.After(t.now.Add(clockJump)):
		t.jump = time.Time{}
	case !t.jump.IsZero() && !at.Before(t.jump.Add(-clockJump)):
		t.jump = time.Time{} // the second segment out there: a real jump
	default:
		t.jump = at
		return t.now, false
	}
	if at.After(t.now) {
		t.now = at
	}
	return t.now, true
}

// Advance summarises the connections that are idle or closed as of now. Observe
// calls it; a live capture also calls it when no packet comes, with the
// time the clock of its packets would show.
func (t *Tracker) Advance(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
	t.sinceSwp = 0
	t.lastSwp = now
	t.sweep(now)
}

// Drain returns the connections summarised since the last call (ended,
// idle or evicted) and forgets them, so a long live run holds only open
// connections.
func (t *Tracker) Drain() []Conn {
	out := t.done
	t.done = nil
	return out
}

// Snapshot summarises every open connection as it stands, without changing
// the Tracker: an interim report.
func (t *Tracker) Snapshot() []Conn {
	out := make([]Conn, 0, len(t.flows))
	for _, f := range t.flows {
		if c, ok := f.clone().summarise(t.now); ok {
			c.Snapshot = true
			out = append(out, c)
		}
	}
	sortConns(out)
	return out
}

func (t *Tracker) newFlow(seg Segment) *flow {
	f := &flow{tl: timeline{on: t.cfg.Events, max: t.cfg.MaxEvents}}
	if t.hsBudget.max == 0 {
		t.hsBudget.max = cmp.Or(t.cfg.HandshakeBudget, maxHandshakeTotal)
	}
	f.ssh.hs[Client].budget, f.ssh.hs[Server].budget = &t.hsBudget, &t.hsBudget
	f.tcp.first = seg.At
	f.activity.Start, f.activity.Width = seg.At, 100*time.Millisecond
	client, server := seg.Src, seg.Dst
	switch {
	case seg.Flags.Has(FlagSYN) && !seg.Flags.Has(FlagACK):
		// The SYN's sender is the client.
	case seg.Flags.Has(FlagSYN | FlagACK):
		client, server = seg.Dst, seg.Src
	case t.ports[seg.Src.Port()] && !t.ports[seg.Dst.Port()]:
		client, server = seg.Dst, seg.Src
	case t.ports[seg.Dst.Port()] && !t.ports[seg.Src.Port()]:
		// Sent to the SSH port: from the client.
	default:
		// Neither or both ports are SSH ports: the lower port serves, until
		// the first banner says otherwise.
		if seg.Src.Port() < seg.Dst.Port() {
			client, server = seg.Dst, seg.Src
		}
		f.guessed = true
	}
	f.client, f.server = client, server
	return f
}

// sweep summarises connections idle past the timeout and closed ones past
// their linger time, walking each list from its stale end.
func (t *Tracker) sweep(now time.Time) {
	for e := t.attempts.l.Back(); e != nil && since(now, e.Value.(*attempt).last) > freshTimeout; e = t.attempts.l.Back() {
		t.dropAttempt(false)
	}
	for f := t.closed.tail; f != nil && since(now, f.tcp.last) > t.cfg.ClosedLinger; f = t.closed.tail {
		t.finish(f, false)
	}
	for f := t.fresh.tail; f != nil && since(now, f.tcp.last) > freshTimeout; f = t.fresh.tail {
		t.finish(f, false)
	}
	for f := t.open.tail; f != nil && since(now, f.tcp.last) > t.cfg.IdleTimeout; f = t.open.tail {
		t.finish(f, false)
	}
}

// evictOldest makes room for one connection: the least recently seen one
// that carried nothing yet, else closed, else open, is summarised early. A
// SYN flood thus evicts its own SYNs, not the sessions being watched.
func (t *Tracker) evictOldest() {
	if t.attempts.l.Len() > 0 {
		t.dropAttempt(true)
		return
	}
	f := t.fresh.tail
	if f == nil {
		f = t.closed.tail
	}
	if f == nil {
		f = t.open.tail
	}
	if f != nil {
		t.finish(f, true)
		t.evicted++
	}
}

// finish summarises f and forgets it. A connection that never carried a
// byte of data nor a TCP keepalive (a SYN scan, a refused or abandoned
// connect) is only counted: it is no SSH session.
func (t *Tracker) finish(f *flow, evicted bool) {
	delete(t.flows, f.key)
	if t.last == f {
		t.last = nil
	}
	f.list.remove(f)
	f.ssh.hs[Client].release()
	f.ssh.hs[Server].release()
	c, ok := f.summarise(t.now)
	if !ok {
		t.noData++
		return
	}
	c.Evicted = evicted
	t.done = append(t.done, c)
}

// Flush ends all open connections as of the last packet seen and returns the
// summary. The Tracker is empty afterwards.
func (t *Tracker) Flush() Summary {
	for t.attempts.l.Len() > 0 {
		t.dropAttempt(false)
	}
	for _, f := range t.flows {
		t.finish(f, false)
	}
	s := Summary{Conns: t.done, Segments: t.segments, Evicted: t.evicted, NoData: t.noData}
	sortConns(s.Conns)
	t.done = nil
	return s
}

// Counters returns the segments observed and connections evicted so far.
func (t *Tracker) Counters() (segments int64, evicted int) { return t.segments, t.evicted }

// SortConns puts connections in the order a Summary lists them: by first
// packet, then client, then server port.
func SortConns(cs []Conn) { sortConns(cs) }

func sortConns(cs []Conn) {
	slices.SortFunc(cs, func(a, b Conn) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		if c := a.Client.Compare(b.Client); c != 0 {
			return c
		}
		return cmp.Compare(a.Server.Port(), b.Server.Port())
	})
}

// Open is the number of connections currently tracked (the table's size,
// attempts included).
func (t *Tracker) Open() int { return t.tracked() }

// flowList is an intrusive doubly linked list of flows, most recent first.
type flowList struct {
	head, tail *flow
}

func (l *flowList) pushFront(f *flow) {
	f.list, f.prev, f.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = f
	}
	l.head = f
	if l.tail == nil {
		l.tail = f
	}
}

func (l *flowList) remove(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.list, f.prev, f.next = nil, nil, nil
}

func (l *flowList) moveToFront(f *flow) {
	if l.head == f {
		return
	}
	l.remove(f)
	l.pushFront(f)
}
