package analyze

import "time"

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
	key        pairKey
	last       time.Time
	segs       []Segment
	prev, next *attempt
}

// attempts is the table of attempts, most recently seen first.
type attempts struct {
	m          map[pairKey]*attempt
	head, tail *attempt
}

func (l *attempts) pushFront(a *attempt) {
	a.prev, a.next = nil, l.head
	if l.head != nil {
		l.head.prev = a
	}
	l.head = a
	if l.tail == nil {
		l.tail = a
	}
}

func (l *attempts) remove(a *attempt) {
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		l.head = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	} else {
		l.tail = a.prev
	}
	a.prev, a.next = nil, nil
	delete(l.m, a.key)
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
		t.attempts.m = map[pairKey]*attempt{}
	}
	a := t.attempts.m[k]
	switch {
	case a == nil && handshakeOnly(seg):
		if t.tracked() >= t.cfg.MaxConns {
			t.evictOldest()
		}
		a = &attempt{key: k}
		t.attempts.m[k] = a
		t.attempts.pushFront(a)
	case a == nil:
		return false
	case !handshakeOnly(seg) || len(a.segs) >= maxAttemptSegs:
		t.attempts.remove(a)
		for _, s := range a.segs {
			t.route(k, s, false)
		}
		return false
	default:
		t.attempts.remove(a)
		t.attempts.m[k] = a
		t.attempts.pushFront(a)
	}
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
	t.attempts.remove(t.attempts.tail)
	t.noData++
	if evicted {
		t.evicted++
	}
}
