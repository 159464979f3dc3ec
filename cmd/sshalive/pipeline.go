package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// The offline pipeline, one file at a time, on every core:
//
//	reader ──chunks──▶ workers (one per core) ──segments by connection──▶ shard workers (one per Tracker)
//
// An uncompressed classic pcap in a regular file is read in blocks
// (capture.Blocks): the reader only numbers them, and each worker reads its
// block at its offset, finds its records by a guess, decodes them, and then,
// in file order, settles them against where the block before ended (a wrong
// guess is walked and decoded again). Other files (pcapng, gzip, stdin, or
// -c) are read by the reader into chunks (capture.File.ReadBatch: a classic
// pcap straight into the chunk, its records found in place) and the workers
// only decode. Either way each worker splits its segments by connection
// (analyze.Shards.Of). (Letting every shard worker decode every packet and
// keep its own was measured too: as fast on 2 cores for plain Ethernet, but
// it repeats the filter VM and gopacket's decoding of cooked and VLAN frames
// on every core.) Each shard worker observes its part of every chunk, in the
// order of the file, so a connection's segments reach its Tracker in capture
// order and every Tracker stays single-threaded. A chunk goes back to the
// pool when every shard is done with it: segments point into its bytes,
// never copied again.

const (
	chunkRecords = 4096      // records a chunk holds at most (read by the reader)
	chunkBytes   = 256 << 10 // bytes a chunk reads (a record it ends inside goes to the next)
)

// blockBytes is the size of a block, a variable for tests (which make many
// small ones). Measured with lab/bench.sh on 2 cores: 1 MiB blocks ran no
// faster than 256 KiB ones but took the peak RSS from 62 to 78 MiB (a
// block of small packets holds many records and segments).
var blockBytes = 256 << 10

type chunk struct {
	blk       capture.Block       // the bytes and records
	err       error               // read by the reader: how reading ended after this chunk; nil: more follow
	k         int                 // read in blocks: the block's number
	segs      [][]analyze.Segment // per shard, filled by a worker
	notices   []analyze.Segment   // banners outside the filter, noticed once settled
	malformed int64               // packets the decoding found malformed
	redo      bool                // read in blocks: settling changed its records, to decode again
	decoded   chan struct{}       // closed when segs is final
	left      atomic.Int32        // shards yet to observe it
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
	var blocks *capture.Blocks
	if limit == 0 {
		blocks = f.Blocks(blockBytes)
	}
	res, err = analyse(ctx, f.LinkType(), f, blocks, filter, shards, limit, progress)
	if blocks != nil {
		switch {
		case blocks.Done() && blocks.Err() != io.EOF:
			err = blocks.Err()
		case !blocks.Done() && err == nil:
			err = interruptedAfter(res.packets)
		}
	}
	return res, err
}

// readMerged feeds files that overlap in time into the shards, merged by
// time. It returns the errors files ended with, and the interrupt that
// stopped the read, if any.
func readMerged(ctx context.Context, files []inputFile, filter *filter, shards *analyze.Shards, limit int64, progress *progressLine) (readResult, []fileErr) {
	m := newMerger(files)
	defer m.Close()
	res, err := analyse(ctx, m.LinkType(), m, nil, filter, shards, limit, progress)
	if err != nil {
		names := make([]string, 0, len(m.open)+len(m.pending))
		for _, c := range m.open {
			names = append(names, c.name)
		}
		for _, f := range m.pending {
			names = append(names, f.name)
		}
		m.errs = append(m.errs, fileErr{strings.Join(names, ", "), err})
	}
	return res, m.errs
}

// batchSource is what the single reader reads: a capture.File, or a merger.
type batchSource interface {
	ReadBatch(buf []byte, recs []capture.Record, maxRecs, maxBytes int) ([]byte, []capture.Record, error)
	Progress() (read, size int64)
}

// analyse runs the pipeline over src (in blocks when blocks is not nil).
func analyse(ctx context.Context, lt layers.LinkType, src batchSource, blocks *capture.Blocks, filter *filter, shards *analyze.Shards, limit int64, progress *progressLine) (res readResult, err error) {
	nshards := len(shards.Trackers)
	workers := make([]*chunkDecoder, runtime.GOMAXPROCS(0))
	for i := range workers {
		if workers[i], err = newChunkDecoder(lt, filter, shards); err != nil {
			return res, err
		}
	}
	// Chunks in flight: enough to keep every worker and shard busy, few
	// enough that they cost little memory.
	pool := make(chan *chunk, len(workers)+nshards+4)
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
	p := &pipe{toWork: make(chan *chunk, cap(pool)), toShard: make([]chan *chunk, nshards), pool: pool, waiting: map[int]*chunk{}}
	var wg sync.WaitGroup
	for i, t := range shards.Trackers {
		p.toShard[i] = make(chan *chunk, cap(pool))
		wg.Go(func() { observeChunks(i, t, p.toShard[i], pool) })
	}
	for _, w := range workers {
		if blocks != nil {
			wg.Go(func() { w.runBlocks(p, blocks) })
		} else {
			wg.Go(func() { w.run(p) })
		}
	}
	if blocks != nil {
		p.readBlocks(ctx, blocks, progress)
	} else {
		err = p.readChunks(&chunkReader{ctx: ctx, src: src, limit: limit, progress: progress})
	}
	close(p.toWork)
	for _, q := range p.toShard {
		close(q)
	}
	wg.Wait()
	res.packets, res.malformed = p.settled.Load(), p.malformed.Load()
	if progress != nil {
		progress.clear()
	}
	return res, err
}

// pipe is one file's queues.
type pipe struct {
	toWork  chan *chunk
	toShard []chan *chunk
	pool    chan *chunk
	// read in blocks: the blocks decoded but not yet settled, and the
	// next to settle
	mu        sync.Mutex
	waiting   map[int]*chunk
	next      int
	settled   atomic.Int64 // packets read (settled, when in blocks)
	malformed atomic.Int64
}

// send hands c to the workers and, in the same order, to every shard.
func (p *pipe) send(c *chunk) {
	c.decoded = make(chan struct{})
	c.left.Store(int32(len(p.toShard)))
	memTick()
	p.toWork <- c
	for _, q := range p.toShard {
		q <- c
	}
}

// readChunks is the reader of a file read by one goroutine: it fills
// chunks until the file ends, and returns the error that ended it (nil at
// its end).
func (p *pipe) readChunks(r *chunkReader) error {
	for {
		c := <-p.pool
		r.fill(c)
		p.settled.Add(int64(len(c.blk.Recs)))
		p.send(c)
		if c.err != nil {
			if c.err != io.EOF {
				return c.err
			}
			return nil
		}
	}
}

// readBlocks is the reader of a file read in blocks: it numbers them, in
// order, until the last, the end settled, or an interrupt. The workers do
// the reading.
func (p *pipe) readBlocks(ctx context.Context, blocks *capture.Blocks, progress *progressLine) {
	for k := 0; k < blocks.Len() && !blocks.Done(); k++ {
		if ctx.Err() != nil {
			return // readFile says where
		}
		c := <-p.pool
		c.k = k
		p.send(c)
		if progress != nil && k%16 == 15 {
			progress.update(min(blocks.Offset(k+1), blocks.Size()), blocks.Size(), p.settled.Load())
		}
	}
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

// run decodes chunks the reader filled.
func (d *chunkDecoder) run(p *pipe) {
	for c := range p.toWork {
		d.decode(c)
		p.malformed.Add(c.malformed)
		d.notice(c)
		close(c.decoded)
	}
}

// runBlocks reads and decodes blocks, and settles them.
func (d *chunkDecoder) runBlocks(p *pipe, b *capture.Blocks) {
	var settled []*chunk
	for c := range p.toWork {
		b.Load(&c.blk, c.k)
		d.decode(c)
		settled = p.settle(c, b, settled[:0])
		for _, c := range settled {
			if c.redo {
				d.decode(c) // a wrong guess: outside the lock, the other workers go on
			}
			p.settled.Add(int64(len(c.blk.Recs)))
			p.malformed.Add(c.malformed)
			d.notice(c)
			close(c.decoded) // maybe before a block ahead of it: each shard waits for each block in turn
		}
	}
}

// settle settles, in file order, c and the blocks after it that were
// decoded already, and returns them (appended to done): a worker whose
// block comes early leaves it to be settled with the one before and goes
// on to the next, instead of waiting.
func (p *pipe) settle(c *chunk, b *capture.Blocks, done []*chunk) []*chunk {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting[c.k] = c
	for {
		c, ok := p.waiting[p.next]
		if !ok {
			return done
		}
		delete(p.waiting, p.next)
		p.next++
		c.redo = b.Settle(&c.blk)
		done = append(done, c)
	}
}

// decode fills c.segs (and c.notices) from c's records.
func (d *chunkDecoder) decode(c *chunk) {
	for i := range c.segs {
		c.segs[i] = c.segs[i][:0]
	}
	c.notices = c.notices[:0]
	malformed := d.dec.Stats.Malformed
	defer func() { c.malformed = d.dec.Stats.Malformed - malformed }()
	buf := c.blk.Buf
	for _, r := range c.blk.Recs {
		data := buf[r.Off : r.Off+r.Len : r.Off+r.Len]
		if d.bpf != nil && !d.bpf.Match(data) {
			continue
		}
		var seg analyze.Segment
		if !d.dec.Decode(data, r.CI, &seg) {
			continue
		}
		if !d.filter.match(&seg) {
			if d.filter.banner(&seg) && len(c.notices) < 16 {
				c.notices = append(c.notices, seg)
			}
			continue
		}
		k := d.shards.Of(&seg)
		c.segs[k] = append(c.segs[k], seg)
	}
}

// notice passes the banners outside the filter of a settled chunk on to
// the filter's hint.
func (d *chunkDecoder) notice(c *chunk) {
	for i := range c.notices {
		d.filter.notice(&c.notices[i])
	}
}

// chunkReader reads a file's records (or merged files') into chunks.
type chunkReader struct {
	ctx      context.Context
	src      batchSource
	limit    int64 // -c: stop after this many packets (0: no limit)
	progress *progressLine
	total    int64
}

// fill refills c with the next records; c.err is io.EOF at the end (or at
// the -c limit), errInterrupted on cancel, or the read error (the records
// before it are in c).
func (r *chunkReader) fill(c *chunk) {
	b := &c.blk
	b.Buf, b.Recs, c.err = b.Buf[:0], b.Recs[:0], nil
	if r.ctx.Err() != nil {
		c.err = interruptedAfter(r.total)
		return
	}
	maxRecs := chunkRecords
	if r.limit > 0 {
		if maxRecs = int(min(int64(maxRecs), r.limit-r.total)); maxRecs <= 0 {
			c.err = io.EOF
			return
		}
	}
	b.Buf, b.Recs, c.err = r.src.ReadBatch(b.Buf, b.Recs, maxRecs, chunkBytes)
	read := int64(len(b.Recs))
	r.total += read
	if c.err == nil && r.limit > 0 && r.total >= r.limit {
		c.err = io.EOF
	}
	if r.progress != nil && r.total/4096 != (r.total-read)/4096 {
		read, size := r.src.Progress()
		r.progress.update(read, size, r.total)
	}
}

// interruptedAfter is the error of a read stopped by an interrupt after
// n packets.
func interruptedAfter(n int64) error {
	return fmt.Errorf("%w after packet %d: the rest of the file was not read", errInterrupted, n)
}
