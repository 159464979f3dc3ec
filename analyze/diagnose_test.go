package analyze

import (
	"testing"
	"time"
)

// The end diagnosis, rule by rule, on hand-made facts (no capture).
// chachaClosing tells session-closing messages under chacha20-poly1305:
// exit-status 52 B, EOF and CLOSE 36 B each.
func chachaClosing(n int) bool { return sumOf(n, 52, 36, 4) }

func TestDiagnose(t *testing.T) {
	t0 := time.Date(2026, 2, 26, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	tests := []struct {
		name      string
		x         endFacts
		cause     Cause
		actor     Role
		probes    int
		idle      float64 // IdleBeforeEnd, s (-1: not checked)
		atLeast   bool
		bracketLo float64
		bracketHi float64
	}{
		{
			name: "hung peer: probes TCP-acked, unanswered, then the prober's FIN",
			x: endFacts{first: at(0), last: at(6.7), end: End{How: "fin", By: Client, At: at(6.6)},
				ssh:      []Keepalives{{Sender: Client, Probes: 6, Answered: 3, TrailingUnanswered: 3, LastAnswered: at(2.6), FirstUnanswered: at(3.6), Last: at(5.6)}},
				bursts:   []burst{{at: at(0.1), by: Client}},
				realSeen: true, lastReal: at(0.5)},
			cause: CauseKeepaliveTimeout, actor: Client, probes: 3, idle: 6.1,
		},
		{
			name: "dead path: a probe retransmitted, never acknowledged; no FIN on the wire",
			x: endFacts{first: at(0), last: at(7.4), end: End{How: "open", At: at(7.4)},
				ssh:      []Keepalives{{Sender: Client, Probes: 4, Answered: 3, TrailingUnanswered: 1, Last: at(3.6)}},
				out:      [2]outstanding{Client: {on: true, at: at(3.6), gap: sec(0.97), survived: sec(1.0), retrans: 5, lastRetrans: at(7.0)}},
				lastFrom: [2]time.Time{Client: at(7.0), Server: at(2.6)}},
			cause: CauseDeadPath, actor: Client, probes: 1, idle: -1,
		},
		{
			name: "TCP keepalive exhaustion: unanswered TCP probes, then the prober's RST",
			x: endFacts{first: at(0), last: at(9.4), end: End{How: "rst", By: Client, At: at(9.4)},
				tcp:      []Keepalives{{Sender: Client, Kind: KindTCP, Probes: 5, Answered: 2, TrailingUnanswered: 3, Last: at(8.3)}},
				lastFrom: [2]time.Time{Client: at(9.4), Server: at(4.3)}},
			cause: CauseTCPKeepaliveTimeout, actor: Client, probes: 3, idle: -1,
		},
		{
			name: "idle drop: the first segment after a long silence retransmitted unanswered",
			x: endFacts{first: at(0), last: at(23), end: End{How: "open", At: at(23)},
				out: [2]outstanding{Client: {on: true, at: at(16.9), gap: sec(9.1), survived: sec(3.1), retrans: 6, lastRetrans: at(22)}}},
			cause: CauseIdleDrop, actor: Client, idle: -1, bracketLo: 3.1, bracketHi: 9.1,
		},
		{
			name: "idle drop answered by a middlebox RST",
			x: endFacts{first: at(0), last: at(400.1), end: End{How: "rst", By: Server, At: at(400.1)},
				out: [2]outstanding{Client: {on: true, at: at(400), gap: sec(380), survived: sec(20)}}},
			cause: CauseIdleDrop, actor: Client, idle: -1, bracketLo: 20, bracketHi: 380,
		},
		{
			name: "idle logout: the server speaks first after the client's silence, then the close",
			x: endFacts{first: at(0), last: at(600.1), end: End{How: "fin", By: Client, At: at(600.05)},
				ssh:       []Keepalives{{Sender: Client, Probes: 29, Answered: 29, Last: at(580)}},
				bursts:    []burst{{at: at(600), by: Server, idle: sec(599.3), atLeast: true, peerQuiet: sec(599.3), sizes: [4]int{92, 176}, segs: 2}},
				lastAtEnd: [2]time.Time{Server: at(600.01)}, quietAtEnd: [2]time.Duration{Server: sec(599.3)}, closing: chachaClosing},
			cause: CauseIdleLogout, actor: Server, idle: 599.3, atLeast: true,
		},
		{
			name: "the remote command ended: only exit status, EOF and CLOSE after the silence",
			x: endFacts{first: at(0), last: at(4.5), end: End{How: "fin", By: Client, At: at(4.441)},
				bursts:    []burst{{at: at(4.44), by: Server, idle: sec(4.2), peerQuiet: sec(4.2), sizes: [4]int{124}, segs: 1}},
				lastAtEnd: [2]time.Time{Client: at(0.24), Server: at(4.44)}, quietAtEnd: [2]time.Duration{Server: sec(4.2)}, exact: true, closing: chachaClosing},
			cause: CauseCommandEnded, actor: Server, idle: 4.2,
		},
		{
			name: "the remote command ended: the server kept sending while the client was silent",
			x: endFacts{first: at(0), last: at(12.3), end: End{How: "fin", By: Client, At: at(12.23)},
				bursts:    []burst{{at: at(12.2), by: Server, idle: sec(2.0), peerQuiet: sec(10.2), segs: 2}},
				lastAtEnd: [2]time.Time{Client: at(2.0), Server: at(12.2)}, quietAtEnd: [2]time.Duration{Server: sec(10.2)}, exact: true},
			cause: CauseCommandEnded, actor: Server, idle: 10.2,
		},
		{
			name: "the server's idle timer: a bare FIN after a silence but for keepalives",
			x: endFacts{first: at(0), last: at(5.1), end: End{How: "fin", By: Server, At: at(5.06)},
				bareEnd: true, quietEnd: at(0.05), realSeen: true, lastReal: at(0.05),
				bursts: []burst{{at: at(0), by: Client, idle: 0}}},
			cause: CauseIdleLogout, actor: Server, idle: 5.01,
		},
		{
			name: "user exit: the client's input, then the close",
			x: endFacts{first: at(0), last: at(5), end: End{How: "fin", By: Client, At: at(5)},
				bursts: []burst{{at: at(4.2), by: Client, idle: sec(2)}}, realSeen: true, lastReal: at(4.9)},
			cause: CauseUserExit, actor: Client, idle: 0.1,
		},
		{
			name: "a short pause before the server's close is no idle logout",
			x: endFacts{first: at(0), last: at(5), end: End{How: "fin", By: Server, At: at(5)},
				bursts:    []burst{{at: at(4.9), by: Server, idle: sec(1.1), peerQuiet: sec(1.1)}},
				lastAtEnd: [2]time.Time{Client: at(3.8), Server: at(4.9)}, quietAtEnd: [2]time.Duration{Server: sec(1.1)}},
			cause: CauseUserExit, actor: Server, idle: -1,
		},
		{
			name:  "open: the capture ended first",
			x:     endFacts{first: at(0), last: at(10), end: End{How: "open", At: at(10)}},
			cause: CauseOpen, idle: -1,
		},
		{
			name:  "an RST out of the blue",
			x:     endFacts{first: at(0), last: at(10), end: End{How: "rst", By: Server, At: at(10)}},
			cause: CauseUnknown, actor: Server, idle: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := diagnose(tt.x)
			if e.Cause != tt.cause || (tt.cause != CauseOpen && e.Actor != tt.actor) || e.UnansweredProbes != tt.probes {
				t.Errorf("cause %s by %s, %d unanswered; want %s by %s, %d", e.Cause, e.Actor, e.UnansweredProbes, tt.cause, tt.actor, tt.probes)
			}
			if tt.idle >= 0 && (!e.HasIdle || absDur(e.IdleBeforeEnd-sec(tt.idle)) > time.Millisecond || e.IdleAtLeast != tt.atLeast) {
				t.Errorf("idle before end %v (known %v, at least %v), want %.3f s (at least %v)", e.IdleBeforeEnd, e.HasIdle, e.IdleAtLeast, tt.idle, tt.atLeast)
			}
			if tt.bracketHi > 0 && (e.SurvivedIdle != sec(tt.bracketLo) || e.FatalIdle != sec(tt.bracketHi)) {
				t.Errorf("bracket %v–%v, want %v–%v s", e.SurvivedIdle, e.FatalIdle, tt.bracketLo, tt.bracketHi)
			}
			if len(e.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// A capture that starts in the silence: the first probe dates the silence's
// start one timer period earlier (the seed trace: 599.3 s, not 579 s).
func TestRefineIdle(t *testing.T) {
	t0 := time.Date(2026, 2, 26, 10, 37, 11, 741159000, time.UTC)
	b := burst{at: t0.Add(579259 * time.Millisecond), by: Server, idle: 579259 * time.Millisecond, atLeast: true}
	refineIdle(&b, []Keepalives{{Sender: Client, First: t0, TimerSeconds: 20}})
	if want := 599259 * time.Millisecond; b.idle != want {
		t.Errorf("idle %v, want %v", b.idle, want)
	}
}

// The Activity sketch keeps its size: its buckets widen as time goes on.
func TestActivity(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var a Activity
	a.add(t0, MarkData)
	a.add(t0.Add(3*time.Second), MarkProbe)
	if a.Width != 100*time.Millisecond || a.Marks[30] != MarkProbe {
		t.Fatalf("width %v, bucket 30 %b", a.Width, a.Marks[30])
	}
	a.add(t0.Add(time.Hour), MarkEnd)
	if a.Marks[0]&MarkData == 0 || a.Marks[0]&MarkProbe == 0 || a.Buckets(t0.Add(time.Hour)) > activityBuckets {
		t.Errorf("after an hour: width %v, marks %v", a.Width, a.Marks[:4])
	}
	if n := a.Buckets(t0.Add(time.Hour)); a.Marks[n-1]&MarkEnd == 0 {
		t.Errorf("end not in the last bucket (%d)", n)
	}
}

// A capped timeline keeps the first and the last events, in order.
func TestEventCap(t *testing.T) {
	l := &timeline{on: true, max: 6}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		l.record(Event{At: t0.Add(time.Duration(i) * time.Second), PayloadLen: i})
	}
	if e := l.at(19); e == nil || e.PayloadLen != 19 {
		t.Errorf("last event %+v", e)
	}
	if e := l.at(10); e != nil {
		t.Errorf("event 10 should be gone, got %+v", e)
	}
	evs, dropped := l.events()
	var got []int
	for _, e := range evs {
		got = append(got, e.PayloadLen)
	}
	if want := []int{0, 1, 2, 17, 18, 19}; dropped != 14 || len(got) != 6 || got[0] != 0 || got[2] != 2 || got[3] != 17 || got[5] != 19 {
		t.Errorf("timeline %v (dropped %d), want %v (14)", got, dropped, want)
	}
}
