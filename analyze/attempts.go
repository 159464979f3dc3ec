package analyze

import (
	"container/list"
	"time"
)

// Connection attempts: a 4-tuple seen only as SYNs and SYN/ACKs so far — a
// connect in progress, or one of a SYN flood's million. A full flow costs
// about 3 KB; an attempt holds its handshake segments (no payload) in a few
// hundred bytes and is replayed into a flow, through the same path as any
// segment, the moment anything else comes. One that never does is counted
// as a connection without data, as a flow would have been.

// maxAttemptSegs: more handshake segments than this (retransmissions) and
// the attempt becomes a flow anyway.
const maxAttemptSegs = 8

type attempt struct {
	key  pairKey
	last time.Time
	segs []Segment
}

// attempts is the table of attempts, most recently seen first
// (container/list: an element per attempt).
type attempts struct {
	m map[pairKey]*list.Element
	l list.List
}

func (l *attempts) remove(e *list.Element) {
	l.l.Remove(e)
	delete(l.m, e.Value.(*attempt).key)
}

// handshakeOnly reports whether seg is a SYN or SYN/ACK without data.
func handshakeOnly(seg *Segment) bool {
	return seg.Flags.Has(FlagSYN) && seg.Flags&(FlagFIN|FlagRST) == 0 && seg.PayloadLen == 0
}

// attempt files seg, of a 4-tuple with no flow, as an attempt when it is a
// handshake segment; otherwise it replays the 4-tuple's attempt, if any,
// into a flow. It reports whether it kept seg.
func (t *Tracker) attempt(k pairKey, seg *Segment) bool {
	if t.attempts.m == nil {
		t.attempts.m = map[pairKey]*list.Element{}
	}
	e := t.attempts.m[k]
	switch {
	case e == nil && handshakeOnly(seg):
		if t.tracked() >= t.cfg.MaxConns {
			t.evictOldest()
		}
		e = t.attempts.l.PushFront(&attempt{key: k})
		t.attempts.m[k] = e
	case e == nil:
		return false
	case !handshakeOnly(seg) || len(e.Value.(*attempt).segs) >= maxAttemptSegs:
		t.attempts.remove(e)
		for _, s := range e.Value.(*attempt).segs {
			t.route(k, s, false)
		}
		return false
	default:
		t.attempts.l.MoveToFront(e)
	}
	a := e.Value.(*attempt)
	s := *seg
	s.Payload = nil
	a.segs = append(a.segs, s)
	a.last = seg.At
	return true
}

// tracked is the number of connections in the table, attempts included.
func (t *Tracker) tracked() int { return len(t.flows) + len(t.attempts.m) }

// dropAttempt forgets the oldest attempt, counted as a connection without
// data (evicted when the table is full).
func (t *Tracker) dropAttempt(evicted bool) {
	t.attempts.remove(t.attempts.l.Back())
	t.noData++
	if evicted {
		t.evicted++
	}
}
