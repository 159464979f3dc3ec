package main

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestDelayAndJitterKeepOrder(t *testing.T) {
	s := newShaper(params{Delay: 40 * time.Millisecond, Jitter: 10 * time.Millisecond}, 1, 0)
	var last time.Time
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		v, dues := s.admit(now, 100)
		if v != pass || len(dues) != 1 {
			t.Fatalf("frame %d: %v %v", i, v, dues)
		}
		d := dues[0].Sub(now)
		if d < 30*time.Millisecond || d > 50*time.Millisecond+time.Millisecond {
			t.Fatalf("frame %d: delay %v outside 40±10 ms", i, d)
		}
		if dues[0].Before(last) {
			t.Fatalf("frame %d reordered by jitter", i)
		}
		last = dues[0]
	}
}

func TestLossDupReorderRates(t *testing.T) {
	s := newShaper(params{Delay: 20 * time.Millisecond, Loss: 0.03, Dup: 0.05, Reorder: 0.05, ReorderBy: 15 * time.Millisecond}, 7, 0)
	const n = 100000
	var overtaken int
	var lastDue time.Time
	for i := range n {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		_, dues := s.admit(now, 100)
		if len(dues) > 0 {
			if dues[0].Before(lastDue) {
				overtaken++
			}
			lastDue = dues[0]
		}
	}
	near := func(name string, got int64, want float64) {
		if math.Abs(float64(got)/n-want) > 0.005 {
			t.Errorf("%s: %d of %d, want ≈ %g", name, got, n, want)
		}
	}
	near("lost", s.n.lost, 0.03)
	near("duplicated", s.n.duplicated, 0.05*0.97)
	near("reordered", s.n.reordered, 0.05*0.97)
	if overtaken == 0 {
		t.Error("no frame overtaken a held-back one")
	}
	// same seed, same decisions
	s2 := newShaper(s.p, 7, 0)
	for i := range n {
		s2.admit(t0.Add(time.Duration(i)*time.Millisecond), 100)
	}
	if s2.n != s.n {
		t.Errorf("not deterministic: %+v vs %+v", s2.n, s.n)
	}
	// the other direction's stream differs
	s3 := newShaper(s.p, 7, 1)
	for i := range n {
		s3.admit(t0.Add(time.Duration(i)*time.Millisecond), 100)
	}
	if s3.n == s.n {
		t.Error("both streams made the same decisions")
	}
}

func TestBottleneck(t *testing.T) {
	// 1 Mbit/s, 1250-byte frames: 10 ms each; a queue of 5
	s := newShaper(params{Delay: 5 * time.Millisecond, Rate: 1_000_000, Queue: 5}, 1, 0)
	var dues []time.Time
	for i := range 8 { // a burst at once: 5 queued, 3 tail-dropped
		v, d := s.admit(t0, 1250)
		if i < 5 && v != pass || i >= 5 && v != queueFull {
			t.Fatalf("frame %d: %v", i, v)
		}
		dues = append(dues, d...)
	}
	for i, d := range dues {
		if want := t0.Add(time.Duration(i+1)*10*time.Millisecond + 5*time.Millisecond); !d.Equal(want) {
			t.Errorf("frame %d due %v, want %v", i, d.Sub(t0), want.Sub(t0))
		}
	}
	// 25 ms later two have left: room for two more, queued behind the rest
	now := t0.Add(25 * time.Millisecond)
	for i := range 3 {
		v, d := s.admit(now, 1250)
		if i < 2 && (v != pass || !d[0].Equal(t0.Add(time.Duration(6+i)*10*time.Millisecond+5*time.Millisecond))) || i == 2 && v != queueFull {
			t.Errorf("after 25 ms, frame %d: %v %v", i, v, d)
		}
	}
	if s.n.queueDrops != 4 {
		t.Errorf("queue drops %d, want 4", s.n.queueDrops)
	}
}

func TestBlackhole(t *testing.T) {
	s := newShaper(params{Delay: time.Millisecond}, 1, 0)
	s.holeAt = t0.Add(time.Second)
	if v, _ := s.admit(t0, 60); v != pass {
		t.Fatal("dropped before the blackhole")
	}
	if v, d := s.admit(t0.Add(time.Second), 60); v != blackholed || d != nil {
		t.Fatal("passed after the blackhole")
	}
}

func TestDelayLineOrder(t *testing.T) {
	l := newDelayLine(3, 1000)
	for _, ms := range []int{30, 10, 20} {
		if !l.add(t0.Add(time.Duration(ms)*time.Millisecond), []byte{byte(ms)}) {
			t.Fatal("add failed")
		}
	}
	if l.add(t0, []byte{1}) {
		t.Fatal("line over its frame bound")
	}
	if f, due := l.next(t0); f != nil || !due.Equal(t0.Add(10*time.Millisecond)) {
		t.Fatalf("next before due: %v %v", f, due)
	}
	var got []byte
	for {
		f, _ := l.next(t0.Add(time.Second))
		if f == nil {
			break
		}
		got = append(got, f.data...)
	}
	if string(got) != string([]byte{10, 20, 30}) {
		t.Fatalf("order %v", got)
	}
}

func TestParams(t *testing.T) {
	var p params
	if err := p.set("delay=40ms,loss=0.03,rate=10000000,queue=200"); err != nil {
		t.Fatal(err)
	}
	if p.Delay != 40*time.Millisecond || p.Loss != 0.03 || p.Rate != 10_000_000 || p.Queue != 200 {
		t.Fatalf("%v", p)
	}
	for _, bad := range []string{"loss=2", "nope=1", "delay", "rate=1,queue=0"} {
		var q params
		if q.set(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
