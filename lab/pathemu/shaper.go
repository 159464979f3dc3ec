package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// params shape one direction of the path.
type params struct {
	Delay     time.Duration // fixed one-way delay
	Jitter    time.Duration // uniform in [-Jitter, +Jitter] around Delay (never below 0)
	Loss      float64       // probability a frame is dropped
	Reorder   float64       // probability a frame is held back by ReorderBy (later frames overtake it)
	ReorderBy time.Duration
	Dup       float64 // probability a frame is sent twice
	Rate      int64   // bottleneck in bit/s (0: none)
	Queue     int     // bottleneck queue in frames (tail drop beyond it)
}

func (p params) String() string {
	return fmt.Sprintf("delay=%v jitter=%v loss=%g reorder=%g reorder_by=%v dup=%g rate=%d queue=%d",
		p.Delay, p.Jitter, p.Loss, p.Reorder, p.ReorderBy, p.Dup, p.Rate, p.Queue)
}

// set applies "key=value,key=value" (keys as in String) over p.
func (p *params) set(spec string) error {
	for _, kv := range strings.Split(spec, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%q: want key=value", kv)
		}
		var err error
		switch k {
		case "delay":
			p.Delay, err = time.ParseDuration(v)
		case "jitter":
			p.Jitter, err = time.ParseDuration(v)
		case "reorder_by":
			p.ReorderBy, err = time.ParseDuration(v)
		case "loss":
			p.Loss, err = strconv.ParseFloat(v, 64)
		case "reorder":
			p.Reorder, err = strconv.ParseFloat(v, 64)
		case "dup":
			p.Dup, err = strconv.ParseFloat(v, 64)
		case "rate":
			p.Rate, err = strconv.ParseInt(v, 10, 64)
		case "queue":
			p.Queue, err = strconv.Atoi(v)
		default:
			return fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return p.check()
}

func (p params) check() error {
	for _, x := range []float64{p.Loss, p.Reorder, p.Dup} {
		if x < 0 || x > 1 {
			return fmt.Errorf("probability %g out of [0,1]", x)
		}
	}
	if p.Delay < 0 || p.Jitter < 0 || p.ReorderBy < 0 || p.Rate < 0 || p.Queue < 0 {
		return fmt.Errorf("negative value in %v", p)
	}
	if p.Rate > 0 && p.Queue == 0 {
		return fmt.Errorf("rate without a queue")
	}
	return nil
}

// verdict is what the shaper decided for one frame.
type verdict int

const (
	pass verdict = iota
	lost
	queueFull
	blackholed
)

// shaper decides, frame by frame, whether and when a frame leaves. It holds
// no frames and does no I/O: the caller passes the arrival time and size and
// gets back the due times (0, 1 or 2 of them). Not safe for concurrent use:
// one shaper per direction, called from that direction's reader.
type shaper struct {
	p   params
	rng *rand.Rand

	bottleneck []time.Time // departure times from the bottleneck of frames still queued there
	lastDepart time.Time   // when the bottleneck is free again
	lastDue    time.Time   // latest in-order due time (jitter never reorders)
	holeAt     time.Time   // from then on every frame is dropped (zero: never)

	n counters
}

type counters struct {
	received, lost, queueDrops, blackholed int64
	duplicated, reordered                  int64
	queueMax                               int // most frames seen in the bottleneck queue
}

func newShaper(p params, seed, stream uint64) *shaper {
	return &shaper{p: p, rng: rand.New(rand.NewPCG(seed, stream))}
}

// admit decides the fate of a frame of size bytes arriving at now and
// returns its due times (two when duplicated, none when dropped).
func (s *shaper) admit(now time.Time, size int) (verdict, []time.Time) {
	s.n.received++
	if !s.holeAt.IsZero() && !now.Before(s.holeAt) {
		s.n.blackholed++
		return blackholed, nil
	}
	// Draw every random number for every frame, in the same order, so
	// one setting does not shift the others' stream.
	rLoss, rJit, rReo, rDup := s.rng.Float64(), s.rng.Float64(), s.rng.Float64(), s.rng.Float64()
	if rLoss < s.p.Loss {
		s.n.lost++
		return lost, nil
	}
	start := now
	if s.p.Rate > 0 {
		// a FIFO bottleneck: frames leave it one after the other at Rate
		i := 0
		for i < len(s.bottleneck) && !s.bottleneck[i].After(now) {
			i++
		}
		s.bottleneck = s.bottleneck[i:]
		if len(s.bottleneck) >= s.p.Queue {
			s.n.queueDrops++
			return queueFull, nil
		}
		if s.lastDepart.After(start) {
			start = s.lastDepart
		}
		start = start.Add(time.Duration(int64(size) * 8 * int64(time.Second) / s.p.Rate))
		s.lastDepart = start
		s.bottleneck = append(s.bottleneck, start)
		s.n.queueMax = max(s.n.queueMax, len(s.bottleneck))
	}
	d := s.p.Delay
	if s.p.Jitter > 0 {
		d += time.Duration((2*rJit - 1) * float64(s.p.Jitter))
		if d < 0 {
			d = 0
		}
	}
	due := start.Add(d)
	if due.Before(s.lastDue) {
		due = s.lastDue // jitter without reordering
	}
	if rReo < s.p.Reorder && s.p.ReorderBy > 0 {
		// held back; lastDue stays, so the frames after it overtake it
		due = due.Add(s.p.ReorderBy)
		s.n.reordered++
	} else {
		s.lastDue = due
	}
	if rDup < s.p.Dup {
		s.n.duplicated++
		return pass, []time.Time{due, due}
	}
	return pass, []time.Time{due}
}
