package main

import (
	"container/heap"
	"sync"
	"time"
)

// frame is one Ethernet frame waiting for its due time.
type frame struct {
	due  time.Time
	seq  uint64 // arrival order: equal due times leave in it
	data []byte
}

type frameHeap []*frame

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(*frame)) }
func (h *frameHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return f
}

// delayLine holds the frames of one direction until they are due: a min-heap
// of due times, bounded in frames and bytes.
type delayLine struct {
	mu       sync.Mutex
	h        frameHeap
	seq      uint64
	bytes    int
	maxFr    int
	maxBytes int
	wake     chan struct{} // a frame was added: the sender re-checks the earliest
}

func newDelayLine(maxFrames, maxBytes int) *delayLine {
	return &delayLine{maxFr: maxFrames, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// add queues data to leave at due; false when the line is full.
func (l *delayLine) add(due time.Time, data []byte) bool {
	l.mu.Lock()
	if len(l.h) >= l.maxFr || l.bytes+len(data) > l.maxBytes {
		l.mu.Unlock()
		return false
	}
	l.seq++
	heap.Push(&l.h, &frame{due: due, seq: l.seq, data: data})
	l.bytes += len(data)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return true
}

// next returns the earliest frame if it is due at now, else the time the
// earliest is due (zero when empty).
func (l *delayLine) next(now time.Time) (*frame, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.h) == 0 {
		return nil, time.Time{}
	}
	if l.h[0].due.After(now) {
		return nil, l.h[0].due
	}
	f := heap.Pop(&l.h).(*frame)
	l.bytes -= len(f.data)
	return f, f.due
}

// len is how many frames wait in the line.
func (l *delayLine) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.h)
}
