package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// The offline pipeline, one file at a time, on every core:
//
//	reader ──chunks──▶ decoders (one per core) ──segments by connection──▶ shard workers (one per Tracker)
//
// One goroutine reads the file into chunks (capture.File.ReadBatch: a
// classic pcap is read straight into the chunk and its records found in
// place). Each chunk is decoded by one of the decoders, which splits its
// segments by connection (analyze.Shards.Of). (Letting every shard worker
// decode every packet and keep its own was measured too: as fast on 2
// cores for plain Ethernet, but it repeats the filter VM and gopacket's
// decoding of cooked and VLAN frames on every core.) Each shard worker observes its part of
// every chunk, in the order the chunks were read, so a connection's
// segments reach its Tracker in capture order and every Tracker stays
// single-threaded. A chunk goes back to the pool when every shard is done
// with it: segments point into its bytes, never copied again.

const (
	chunkRecords = 4096      // records a chunk holds at most
	chunkBytes   = 256 << 10 // bytes a chunk reads (a record it ends inside goes to the next)
)

type chunk struct {
	buf     []byte
	recs    []capture.Record
	err     error               // how reading ended after this chunk; nil: more follow
	segs    [][]analyze.Segment // per shard, filled by a decoder
	decoded chan struct{}       // closed when segs is filled
	left    atomic.Int32        // shards yet to observe it
}

// chunks keeps the chunks of earlier files for the next: reading a hundred
// small files costs the buffers of one.
var chunks sync.Pool

// readFile feeds one capture file into the shards. It returns what was
// read even when the file fails part way.
func readFile(ctx context.Context, name string, stdin io.Reader, filter *filter, shards *analyze.Shards, limit int64, progress *progressLine) (res readResult, err error) {
	f, err := capture.OpenFile(name, stdin)
	if err != nil {
		return res, err
	}
	defer f.Close()
	nshards := len(shards.Trackers)
	decoders := make([]*chunkDecoder, runtime.GOMAXPROCS(0))
	for i := range decoders {
		if decoders[i], err = newChunkDecoder(f.LinkType(), filter, shards); err != nil {
			return res, err
		}
	}
	// Chunks in flight: enough to keep every decoder and shard busy, few
	// enough that they cost little memory (about 300 KiB each).
	pool := make(chan *chunk, len(decoders)+nshards+4)
	for range cap(pool) {
		c, _ := chunks.Get().(*chunk)
		if c == nil {
			c = &chunk{} // its buffers grow as its first reads need
		}
		if len(c.segs) != nshards {
			c.segs = make([][]analyze.Segment, nshards)
		}
		pool <- c
	}
	defer func() { // every chunk is back in pool once the workers are done
		for range cap(pool) {
			chunks.Put(<-pool)
		}
	}()
	toDecode := make(chan *chunk, cap(pool))
	toShard := make([]chan *chunk, nshards)
	var wg sync.WaitGroup
	for i, t := range shards.Trackers {
		toShard[i] = make(chan *chunk, cap(pool))
		wg.Go(func() { observeChunks(i, t, toShard[i], pool) })
	}
	for _, d := range decoders {
		wg.Go(func() { d.run(toDecode) })
	}
	r := &chunkReader{ctx: ctx, f: f, limit: limit, progress: progress}
	for {
		c := <-pool
		r.fill(c)
		res.packets += int64(len(c.recs))
		memTick()
		c.decoded = make(chan struct{})
		c.left.Store(int32(nshards))
		toDecode <- c
		for _, q := range toShard {
			q <- c
		}
		if c.err != nil {
			if c.err != io.EOF {
				err = c.err
			}
			break
		}
	}
	close(toDecode)
	for _, q := range toShard {
		close(q)
	}
	wg.Wait()
	for _, d := range decoders {
		res.malformed += d.dec.Stats.Malformed
	}
	if progress != nil {
		progress.clear()
	}
	return res, err
}

// observeChunks is shard worker i: its segments of each chunk, in order.
func observeChunks(i int, t *analyze.Tracker, in <-chan *chunk, pool chan<- *chunk) {
	for c := range in {
		<-c.decoded
		for j := range c.segs[i] {
			t.Observe(c.segs[i][j])
		}
		if c.left.Add(-1) == 0 {
			pool <- c
		}
	}
}

// chunkDecoder decodes chunks into segments split by connection.
type chunkDecoder struct {
	dec    *capture.Decoder
	bpf    *capture.Filter
	filter *filter
	shards *analyze.Shards
}

func newChunkDecoder(lt layers.LinkType, filter *filter, shards *analyze.Shards) (*chunkDecoder, error) {
	d := &chunkDecoder{filter: filter, shards: shards}
	var err error
	if d.dec, err = capture.NewDecoder(lt); err != nil {
		return nil, err
	}
	if filter.expr != "" {
		if d.bpf, err = capture.CompileFilter(filter.expr, lt, capture.MaxPacket); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *chunkDecoder) run(in <-chan *chunk) {
	for c := range in {
		for i := range c.segs {
			c.segs[i] = c.segs[i][:0]
		}
		for _, r := range c.recs {
			data := c.buf[r.Off : r.Off+r.Len : r.Off+r.Len]
			if d.bpf != nil && !d.bpf.Match(data) {
				continue
			}
			var seg analyze.Segment
			if !d.dec.Decode(data, r.CI, &seg) {
				continue
			}
			if !d.filter.match(&seg) {
				d.filter.notice(&seg)
				continue
			}
			k := d.shards.Of(seg.Src, seg.Dst)
			c.segs[k] = append(c.segs[k], seg)
		}
		close(c.decoded)
	}
}

// chunkReader reads a file's records into chunks.
type chunkReader struct {
	ctx      context.Context
	f        *capture.File
	limit    int64 // -c: stop after this many packets (0: no limit)
	progress *progressLine
	total    int64
}

// fill refills c with the next records; c.err is io.EOF at the end (or at
// the -c limit), errInterrupted on cancel, or the read error (the records
// before it are in c).
func (r *chunkReader) fill(c *chunk) {
	c.buf, c.recs, c.err = c.buf[:0], c.recs[:0], nil
	if r.ctx.Err() != nil {
		c.err = fmt.Errorf("%w after packet %d: the rest of the file was not read", errInterrupted, r.total)
		return
	}
	maxRecs := chunkRecords
	if r.limit > 0 {
		if maxRecs = int(min(int64(maxRecs), r.limit-r.total)); maxRecs <= 0 {
			c.err = io.EOF
			return
		}
	}
	c.buf, c.recs, c.err = r.f.ReadBatch(c.buf, c.recs, maxRecs, chunkBytes)
	read := int64(len(c.recs))
	r.total += read
	if c.err == nil && r.limit > 0 && r.total >= r.limit {
		c.err = io.EOF
	}
	if r.progress != nil && r.total/4096 != (r.total-read)/4096 {
		r.progress.update(r.f, r.total)
	}
}
