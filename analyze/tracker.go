package analyze

import (
	"cmp"
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
	// timeline. Memory then grows with the capture.
	Events bool
}

// Thresholds of the classifier.
const (
	// minIdle is the least silence from the peer before a probe: keepalive
	// intervals are whole seconds and ssh fires its first one early (FACTS,
	// "Seen on real captures": 1.2–1.95 s for an interval of 2).
	minIdle = 900 * time.Millisecond
	// replyWindow bounds the time from a probe to its reply.
	replyWindow = time.Second
	// maxProbeBytes is larger than any keepalive under any cipher (116).
	maxProbeBytes = 128
	// tcpProbeMinGap is the least silence from the prober before a TCP
	// keepalive: kernels allow no keepalive interval below 1 s.
	tcpProbeMinGap = 500 * time.Millisecond
	// closedLinger keeps a closed connection this long for stray packets
	// (the last ACK, retransmitted FINs).
	closedLinger = 30 * time.Second
	// A sweep for idle and closed connections runs every sweepEvery
	// segments or sweepPeriod of packet time, whichever comes first.
	sweepEvery  = 4096
	sweepPeriod = time.Second
)

// Tracker follows TCP connections and classifies their keepalives. It is not
// safe for concurrent use.
type Tracker struct {
	cfg      Config
	ports    map[uint16]bool
	flows    map[pairKey]*flow
	done     []Conn
	segments int64
	evicted  int
	order    int64
	sinceSwp int
	lastSwp  time.Time
	drained  int // connections already handed out by Drain
}

type pairKey struct{ a, b netip.AddrPort }

func keyOf(x, y netip.AddrPort) pairKey {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return pairKey{x, y}
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
	k := keyOf(seg.Src, seg.Dst)
	f := t.flows[k]
	if f != nil && f.closed() && seg.Flags&(FlagSYN|FlagACK) == FlagSYN {
		t.finish(k, f, false) // the 4-tuple is reused by a new connection
		f = nil
	}
	if f == nil {
		if len(t.flows) >= t.cfg.MaxConns {
			t.evictOldest()
		}
		f = t.newFlow(seg)
		t.flows[k] = f
	}
	f.observe(seg)
	if t.sinceSwp++; t.sinceSwp >= sweepEvery || seg.At.Sub(t.lastSwp) >= sweepPeriod {
		t.Advance(seg.At)
	}
}

// Advance summarises the connections that are idle or closed as of now. Observe
// calls it; a live capture also calls it when no packet comes, with the
// time the clock of its packets would show.
func (t *Tracker) Advance(now time.Time) {
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
	t.drained += len(out)
	return out
}

// Snapshot summarises every open connection as it stands, without changing
// the Tracker: an interim report.
func (t *Tracker) Snapshot() []Conn {
	out := make([]Conn, 0, len(t.flows))
	for _, f := range t.flows {
		cp := f.clone()
		out = append(out, cp.summarise())
	}
	sortConns(out)
	return out
}

func (t *Tracker) newFlow(seg Segment) *flow {
	t.order++
	f := &flow{order: t.order, first: seg.At, events: t.cfg.Events}
	client, server := seg.Src, seg.Dst
	switch {
	case seg.Flags.Has(FlagSYN) && !seg.Flags.Has(FlagACK):
		f.byPort = false
	case seg.Flags.Has(FlagSYN | FlagACK):
		client, server = seg.Dst, seg.Src
	case t.ports[seg.Src.Port()] && !t.ports[seg.Dst.Port()]:
		client, server = seg.Dst, seg.Src
		f.byPort = true
	case t.ports[seg.Dst.Port()] && !t.ports[seg.Src.Port()]:
		f.byPort = true
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
// their linger time.
func (t *Tracker) sweep(now time.Time) {
	for k, f := range t.flows {
		if now.Sub(f.last) > t.cfg.IdleTimeout || (f.closed() && now.Sub(f.last) > closedLinger) {
			t.finish(k, f, false)
		}
	}
}

// evictOldest summarises the least recently seen eighth of the table.
func (t *Tracker) evictOldest() {
	type kf struct {
		k pairKey
		f *flow
	}
	all := make([]kf, 0, len(t.flows))
	for k, f := range t.flows {
		all = append(all, kf{k, f})
	}
	slices.SortFunc(all, func(a, b kf) int { return a.f.last.Compare(b.f.last) })
	n := max(1, len(all)/8)
	for _, e := range all[:n] {
		t.finish(e.k, e.f, true)
		t.evicted++
	}
}

func (t *Tracker) finish(k pairKey, f *flow, evicted bool) {
	delete(t.flows, k)
	c := f.summarise()
	c.Evicted = evicted
	t.done = append(t.done, c)
}

// Flush ends all open connections as of the last packet seen and returns the
// summary. The Tracker is empty afterwards.
func (t *Tracker) Flush() Summary {
	for k, f := range t.flows {
		t.finish(k, f, false)
	}
	s := Summary{Conns: t.done, Segments: t.segments, Evicted: t.evicted}
	sortConns(s.Conns)
	t.done = nil
	return s
}

// Counters returns the segments observed and connections evicted so far.
func (t *Tracker) Counters() (segments int64, evicted int) { return t.segments, t.evicted }

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

// Open is the number of connections currently tracked.
func (t *Tracker) Open() int { return len(t.flows) }
