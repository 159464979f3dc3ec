package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/sshalive/sshalive/capture"
)

// Several capture files are read in the order of their first packets. Files
// that overlap in time — the two directions captured apart, two interfaces
// of one host, a capture restarted while the old one ran — are merged by
// time into one stream (merger), so that every connection's packets reach
// the analysis in the order they were captured. Files that follow one
// another, as a rotation (tcpdump -G, -C) writes them, are each read on
// every core (capture.Blocks).

// inputFile is one file given with -r, and what it covers.
type inputFile struct {
	name string
	span capture.Span
	err  error // the span could not be read: the file is read alone, to say why
}

// plan puts the files in the order of their first packets (files that
// cannot be read, and stdin, first, in the order given) and groups those
// that overlap in time. A file whose end is unknown (pcapng, gzip) is taken
// to overlap every file that starts after it: the merge then reads them one
// after another anyway, opening each when the time comes.
func plan(names []string) [][]inputFile {
	files := make([]inputFile, len(names))
	stdin := slices.Contains(names, "-") // it cannot be looked at twice: the order given
	for i, n := range names {
		files[i].name = n
		if !stdin {
			files[i].span, files[i].err = capture.SpanOf(n)
		}
	}
	if !stdin {
		slices.SortStableFunc(files, func(a, b inputFile) int { return a.span.First.Compare(b.span.First) })
	}
	var groups [][]inputFile
	var end time.Time // the latest end of the last group; zero: unknown
	for _, f := range files {
		if last := len(groups) - 1; last >= 0 && overlaps(groups[last][0], f, end) {
			groups[last] = append(groups[last], f)
			if !end.IsZero() && (f.span.Last.IsZero() || f.span.Last.After(end)) {
				end = f.span.Last // once unknown, it stays unknown
			}
			continue
		}
		groups = append(groups, []inputFile{f})
		end = f.span.Last
	}
	return groups
}

// overlaps tells whether f, the next file by first packet, joins the group
// that first starts and ends at end (zero: unknown, so it may overlap
// anything after it): both were read, are of one link type, and f starts
// before the end.
func overlaps(first, f inputFile, end time.Time) bool {
	read := func(f inputFile) bool { return f.err == nil && !f.span.First.IsZero() }
	return read(first) && read(f) && f.span.LinkType == first.span.LinkType &&
		(end.IsZero() || f.span.First.Before(end))
}

// merger reads the records of several files of one link type merged by
// time: a file is opened when the merged stream reaches its first packet,
// closed at its end, so files that merely follow one another are read one
// at a time. Records are copied into the caller's chunk (a chunk holds
// records of several files).
type merger struct {
	pending []inputFile // not opened yet, by first packet
	open    []*cursor   // being read, in the order opened (which wins a tie)
	errs    []fileErr   // files that ended with an error, in the order they did
	read    int64       // bytes of the files closed
	size    int64       // of all the files
}

type fileErr struct {
	name string
	err  error
}

// cursor is one open file and its current batch.
type cursor struct {
	name  string
	f     *capture.File
	buf   []byte
	recs  []capture.Record
	i     int
	ended bool // the batch in recs is the last
}

const (
	mergeBatch = 1024     // records a cursor reads at a time
	mergeBytes = 64 << 10 // bytes
)

func newMerger(files []inputFile) *merger {
	m := &merger{pending: files}
	for _, f := range files {
		m.size += f.span.Size
	}
	return m
}

// LinkType is the files' common link type.
func (m *merger) LinkType() layers.LinkType { return m.pending[0].span.LinkType }

// Progress is the bytes read of all the files, and their total size.
func (m *merger) Progress() (read, size int64) {
	read = m.read
	for _, c := range m.open {
		r, _ := c.f.Progress()
		read += r
	}
	return read, m.size
}

// ReadBatch appends the next records of the merged stream, at most maxRecs
// of them and about maxBytes; io.EOF once every file is read. The errors
// files end with are kept (errs), not returned: the others go on.
func (m *merger) ReadBatch(buf []byte, recs []capture.Record, maxRecs, maxBytes int) ([]byte, []capture.Record, error) {
	for len(recs) < maxRecs && len(buf) < maxBytes {
		c := m.next()
		if c == nil {
			return buf, recs, io.EOF
		}
		r := c.recs[c.i]
		recs = append(recs, capture.Record{Off: len(buf), Len: r.Len, CI: r.CI})
		buf = append(buf, c.buf[r.Off:r.Off+r.Len]...)
		if c.i++; c.i == len(c.recs) {
			m.refill(c)
		}
	}
	return buf, recs, nil
}

// next is the open file whose next record is the earliest, after opening
// the files whose first packet comes no later; nil at the end.
func (m *merger) next() *cursor {
	for {
		var best *cursor
		for _, c := range m.open {
			if best == nil || c.recs[c.i].CI.Timestamp.Before(best.recs[best.i].CI.Timestamp) {
				best = c
			}
		}
		if len(m.pending) == 0 || best != nil && best.recs[best.i].CI.Timestamp.Before(m.pending[0].span.First) {
			return best
		}
		f := m.pending[0]
		m.pending = m.pending[1:]
		fh, err := capture.OpenFile(f.name, nil)
		if err != nil {
			m.errs = append(m.errs, fileErr{f.name, err})
			continue
		}
		c := &cursor{name: f.name, f: fh}
		m.open = append(m.open, c)
		m.refill(c)
	}
}

// refill reads c's next batch, or, at its end, closes it. A file's last
// records come with the error that ends it (io.EOF at a clean end): they
// are read first.
func (m *merger) refill(c *cursor) {
	// A batch can hold no record and no error: reading past a record over
	// MaxPacket longer than the batch. Read on until records or the end.
	for !c.ended {
		var err error
		c.buf, c.recs, err = c.f.ReadBatch(c.buf[:0], c.recs[:0], mergeBatch, mergeBytes)
		c.i = 0
		if err != nil {
			c.ended = true
			if !errors.Is(err, io.EOF) {
				m.errs = append(m.errs, fileErr{c.name, err})
			}
		}
		if len(c.recs) > 0 {
			return
		}
	}
	r, _ := c.f.Progress()
	m.read += r
	c.f.Close()
	m.open = slices.DeleteFunc(m.open, func(o *cursor) bool { return o == c })
}

// Close closes the files still open (an interrupted read).
func (m *merger) Close() {
	for _, c := range m.open {
		c.f.Close()
	}
	m.open = nil
}

// describe says, for the log, which files are merged and why.
func describe(group []inputFile) string {
	names := make([]string, len(group))
	for i, f := range group {
		names[i] = f.name
	}
	a, b := group[0], group[1]
	why := fmt.Sprintf("%s starts at %s", b.name, b.span.First.UTC().Format(time.RFC3339Nano))
	if !a.span.Last.IsZero() {
		why += fmt.Sprintf(", before %s ends (%s)", a.name, a.span.Last.UTC().Format(time.RFC3339Nano))
	} else {
		why += fmt.Sprintf(", and where %s ends is not known without reading it", a.name)
	}
	return fmt.Sprintf("%s overlap in time (%s): reading them merged by time", strings.Join(names, ", "), why)
}
