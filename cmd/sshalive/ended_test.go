package main

import (
	"testing"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// TestEndedKeep: a long live capture keeps at most maxEnded ended
// connections, the latest, and the timelines of only the latest
// maxEndedEvents; what it let go is counted.
func TestEndedKeep(t *testing.T) {
	const n = 2*maxEnded + 5000
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var k endedKeep
	for i := range n {
		k.add(analyze.Conn{FirstSeen: t0.Add(time.Duration(i) * time.Second), Events: make([]analyze.Event, 3), EventsDropped: 1})
		if len(k.conns) > maxEnded {
			t.Fatalf("after %d connections %d kept", i+1, len(k.conns))
		}
	}
	if k.dropped+len(k.conns) != n {
		t.Errorf("%d kept + %d dropped, want %d", len(k.conns), k.dropped, n)
	}
	if last := k.conns[len(k.conns)-1].FirstSeen; !last.Equal(t0.Add((n - 1) * time.Second)) {
		t.Errorf("the latest connection is not kept last: %v", last)
	}
	for i := 1; i < len(k.conns); i++ {
		if !k.conns[i].FirstSeen.After(k.conns[i-1].FirstSeen) {
			t.Fatalf("order lost at %d", i)
		}
	}
	withEvents := 0
	for i, c := range k.conns {
		if len(c.Events) > 0 {
			withEvents++
			if i < len(k.conns)-maxEndedEvents {
				t.Errorf("connection %d of %d keeps its timeline", i, len(k.conns))
			}
		} else if c.EventsDropped != 0 {
			t.Errorf("connection %d: timeline let go but %d events still said dropped", i, c.EventsDropped)
		}
	}
	if withEvents != maxEndedEvents {
		t.Errorf("%d connections keep timelines, want %d", withEvents, maxEndedEvents)
	}
}
