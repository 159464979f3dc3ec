package main

import "github.com/sshalive/sshalive/analyze"

// Live mode keeps ended connections for the final table or HTML report
// (JSON streams them as they end). So that a capture running for weeks on
// a busy jump host does not grow without bound, it keeps the latest
// maxEnded, and the packet timelines (up to 20 000 events, ~1 MB each) of
// only the latest maxEndedEvents.
const (
	maxEnded       = 10000
	maxEndedEvents = 64
)

// endedKeep holds the latest ended connections and counts those let go.
type endedKeep struct {
	conns   []analyze.Conn
	dropped int
}

func (k *endedKeep) add(c analyze.Conn) {
	if len(k.conns) >= maxEnded {
		// let the older half go at once: amortised O(1) per connection
		n := len(k.conns) / 2
		k.dropped += n
		k.conns = append(k.conns[:0], k.conns[n:]...)
		clear(k.conns[len(k.conns):cap(k.conns)])
	}
	k.conns = append(k.conns, c)
	if i := len(k.conns) - 1 - maxEndedEvents; i >= 0 {
		k.conns[i].Events, k.conns[i].EventsDropped = nil, 0
	}
}
