package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// The live capture on several cores: the sockets of a fanout group, each
// read by a worker goroutine with a Tracker of its own (the kernel sends
// both directions of a connection to the same socket). The workers only
// read, decode and observe; everything that writes (ended connections,
// interim reports, metrics) stays on the goroutine that runs fanout, which
// reaches a Tracker by asking its worker to run a function between two
// packets, so every Tracker stays single-threaded. -w keeps one socket: a
// saved file is written in capture order.

// liveWorker is one socket of the group, its decoder and its Tracker.
type liveWorker struct {
	live    *capture.Live
	dec     *capture.Decoder
	tracker *analyze.Tracker
	asks    chan func(*analyze.Tracker)
	done    chan struct{} // closed when the worker has returned
	packets atomic.Int64  // read by it, and counted
}

// askAll runs f on every worker's Tracker, each on the worker's goroutine
// (or on the caller's once the worker has returned), all at once: a worker
// waiting for a packet takes the request within its read timeout, so a
// round costs one timeout, not one per worker. f is called for one Tracker
// at a time.
func askAll(workers []*liveWorker, f func(*analyze.Tracker)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			run := func(t *analyze.Tracker) {
				mu.Lock()
				defer mu.Unlock()
				f(t)
			}
			ran := make(chan struct{})
			select {
			case w.asks <- func(t *analyze.Tracker) { run(t); close(ran) }:
				<-ran
			case <-w.done:
				run(w.tracker)
			}
		})
	}
	wg.Wait()
}

// run reads packets until stop is closed (then what the ring holds, for at
// most stopDrain), -c packets were counted across the group (counted, with
// -c only, one shared counter: without it, no cache line goes from core to
// core per packet), or reading fails.
func (w *liveWorker) run(stop <-chan struct{}, counted *atomic.Int64, count int64, filter *filter, now func() time.Time) error {
	defer close(w.done)
	var seg analyze.Segment
	var stopAt time.Time
	for {
		select {
		case f := <-w.asks:
			f(w.tracker)
			continue
		case <-stop:
			if stopAt.IsZero() {
				stopAt = now().Add(stopDrain)
			} else if now().After(stopAt) {
				return nil
			}
		default:
		}
		data, ci, err := w.live.ReadPacket()
		if errors.Is(err, capture.ErrTimeout) {
			if !stopAt.IsZero() {
				return nil // stopping, and nothing left
			}
			w.tracker.Advance(now()) // a silent socket: idle connections expire by the clock
			continue
		}
		if err != nil {
			return err
		}
		if count > 0 && counted.Add(1) > count {
			return nil // another worker counted the last one
		}
		w.packets.Add(1)
		if w.dec.Decode(data, ci, &seg) && filter.match(&seg) {
			w.tracker.Observe(seg)
		}
	}
}

// fanout runs the workers until ctx ends, -c packets were read or a socket
// fails (the error it returns), with ended connections reported every
// second and interim reports on --interval and SIGUSR1.
func (ls *liveSession) fanout(ctx context.Context, filter *filter, now func() time.Time) error {
	out := ls.out
	workers := make([]*liveWorker, len(ls.lives))
	stop := make(chan struct{})
	running := stop          // what the workers watch; stop is nil once closed
	var counted atomic.Int64 // with -c
	var wg sync.WaitGroup
	errs := make(chan error, len(workers))
	for i, l := range ls.lives {
		w := &liveWorker{live: l, dec: ls.decs[i], tracker: ls.shards.Trackers[i], asks: make(chan func(*analyze.Tracker)), done: make(chan struct{})}
		workers[i] = w
		wg.Go(func() {
			if err := w.run(running, &counted, ls.cfg.Count, filter, now); err != nil {
				errs <- err
			}
		})
	}
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()

	usr1, tick, stopInterim := interimTriggers(ls.cfg.Interval)
	defer stopInterim()
	second := time.NewTicker(time.Second)
	defer second.Stop()
	packets := func() (n int64) {
		for _, w := range workers {
			n += w.packets.Load()
		}
		return n
	}
	counters := func() totals {
		var v totals
		askAll(workers, v.add)
		v.capture, v.captureKnown = ls.stats()
		return v
	}
	interim := func() {
		var open []analyze.Conn
		var segs int64
		askAll(workers, func(t *analyze.Tracker) {
			open = append(open, t.Snapshot()...)
			segs += segments(t)
		})
		analyze.SortConns(open) // as one Tracker's Snapshot is
		out.totals.Packets = packets()
		out.interim(now(), open, segs)
	}
	var readErr error
	done := ctx.Done()
	halt := func() {
		if stop != nil {
			close(stop)
			stop, done = nil, nil
		}
	}
	for {
		select {
		case <-all:
			select { // a worker that failed last: its error may not have been taken yet
			case err := <-errs:
				readErr = err
			default:
			}
			out.totals.Packets = packets()
			return readErr
		case err := <-errs:
			readErr = err
			halt()
		case <-done:
			halt()
		case <-usr1:
			interim()
		case <-tick:
			interim()
		case <-second.C:
			var cs []analyze.Conn
			askAll(workers, func(t *analyze.Tracker) { cs = append(cs, t.Drain()...) })
			ls.report(cs, counters)
			memTick()
			if out.stdoutBroken() {
				halt()
			}
		}
		if c := ls.cfg.Count; c > 0 && counted.Load() >= c {
			halt()
		}
	}
}
