package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// memoryGovernor keeps the heap near what is live. Go's default lets the
// heap grow to twice the live data before collecting; on a small table
// that doubling, not the data, sets the peak (10 000 hostile connections:
// 70 MB live, 196 MB resident). So sshalive sets a soft memory limit of a
// quarter above the live heap, never under memFloor, and moves it as the
// live heap does: a busy table that legitimately holds more gets room in
// proportion, and the collector never runs flat out against a limit the
// data has outgrown. GOMEMLIMIT, when set, is the user's and is left alone.
type memoryGovernor struct {
	on     bool
	n      int
	sample []metrics.Sample
}

const (
	memFloor     = 96 << 20
	memTickEvery = 64 // batches (or 32 768 live segments) between looks
)

// memGov is the process's governor, set up at its first tick.
var memGov *memoryGovernor

func newMemoryGovernor() *memoryGovernor {
	g := &memoryGovernor{on: os.Getenv("GOMEMLIMIT") == "", sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	if g.on {
		debug.SetMemoryLimit(memFloor)
	}
	return g
}

// memTick, called after each batch of segments analysed, moves the limit
// every memTickEvery calls.
func memTick() {
	if memGov == nil {
		memGov = newMemoryGovernor()
	}
	memGov.tick()
}

func (g *memoryGovernor) tick() {
	if !g.on {
		return
	}
	if g.n++; g.n < memTickEvery {
		return
	}
	g.n = 0
	metrics.Read(g.sample)
	if g.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := int64(g.sample[0].Value.Uint64())
	debug.SetMemoryLimit(max(memFloor, live+live/4))
}
