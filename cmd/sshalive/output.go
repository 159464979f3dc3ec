package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"time"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
	"github.com/sshalive/sshalive/report"
)

// The output: the final report, connection records streamed as connections
// end, and interim reports.

// isTerminal reports whether w is a character device (an interactive
// terminal), where interim reports redraw in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// htmlEvents caps the packets per connection kept for --html.
const htmlEvents = 20000

// output renders results: the final report, connection records streamed
// as connections end (live --json), and interim reports.
type output struct {
	cfg    Config
	stdout io.Writer
	stderr io.Writer
	logger *log.Logger
	totals report.Totals
	conns  int       // connections reported so far
	ended  endedKeep // live table mode: ended connections kept for the final table
	html   endedKeep // live --json --html: ended connections kept for the HTML report
	// htmlOut is the --html file when opened early (live: before -Z drops
	// the rights to create it); nil: created when the report is written.
	htmlOut *os.File
	// failed is the first output that could not be written (stdout closed
	// by `| head`, a full disk under -w or --html): the run ends with
	// exitOutput once everything that still works is written.
	failed error
	// sticky is stdout's writer (stdout is it), which keeps the first
	// write error.
	sticky *stickyWriter
}

// outputFailed records that name could not be written and says so.
func (o *output) outputFailed(name string, err error) {
	if o.failed == nil {
		o.failed = fmt.Errorf("%s: %w", name, err)
	}
	o.logger.Printf("%s: %v", name, err)
}

// stdoutBroken reports whether stdout can no longer be written.
func (o *output) stdoutBroken() bool { return o.sticky.err != nil }

// stickyWriter is stdout: its first write error (EPIPE from `| head`,
// ENOSPC) is kept, said once, and returned by every later write without
// another system call, whatever the renderer does with errors.
type stickyWriter struct {
	w   io.Writer
	err error
	o   *output
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
		s.o.outputFailed("stdout", err)
	}
	return n, err
}

func (o *output) fileError(name string, err error) {
	if errors.Is(err, capture.ErrTruncated) || errors.Is(err, errInterrupted) {
		o.totals.Truncated = true
	}
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == name {
		err = pe.Err // "trace.pcap: no such file or directory", the name said once
	}
	msg := fmt.Sprintf("%s: %v", name, err)
	o.totals.Errors = append(o.totals.Errors, msg)
	o.logger.Print(msg)
}

// endedConns takes connections that ended during a live capture: written at
// once in JSON mode, kept for the final table otherwise.
func (o *output) endedConns(cs []analyze.Conn) {
	for _, c := range cs {
		if !o.selected(c) {
			continue
		}
		o.conns++
		if o.cfg.JSON {
			report.WriteConn(o.stdout, c) // an error is kept by stickyWriter
			if o.cfg.HTML != "" {
				o.html.add(c)
			}
			continue
		}
		if !o.cfg.Events && o.cfg.HTML == "" {
			c.Events = nil
		}
		o.ended.add(c)
	}
}

// final writes the report of what is left and returns exitOutput if an
// output could not be written (then the others are written still).
func (o *output) final(s analyze.Summary) int {
	if o.totals.Malformed > 0 {
		o.logger.Printf("%d packets could not be decoded (malformed or cut short)", o.totals.Malformed)
	}
	if n := o.ended.dropped + o.html.dropped; n > 0 {
		o.logger.Printf("%d connections that ended early in the capture are left out of this report (live keeps the latest %d; --json streams every one)", n, maxEnded)
	}
	fresh := o.selection(s.Conns)
	o.conns += len(fresh) // JSON's "connections": those listed
	s.Conns = append(o.ended.conns, fresh...)
	var err error
	switch {
	case o.cfg.JSON:
		// Connections already streamed are counted, not repeated.
		for _, c := range s.Conns {
			if err = report.WriteConn(o.stdout, c); err != nil {
				break
			}
		}
		if err == nil {
			err = report.WriteSummary(o.stdout, o.conns, s, o.totals)
		}
	case o.cfg.HTML == "-":
		// stdout is the HTML report's (below)
	case o.cfg.Events:
		if err = report.Events(o.text(), s); err == nil {
			fmt.Fprintln(o.stdout)
			err = report.Text(o.text(), s, report.Options{All: o.cfg.All})
		}
	default:
		err = report.Text(o.text(), s, report.Options{All: o.cfg.All})
	}
	if err != nil && !o.stdoutBroken() {
		o.outputFailed("stdout", err)
	}
	if o.cfg.HTML != "" {
		hs := s
		hs.Conns = append(append([]analyze.Conn{}, o.html.conns...), s.Conns...)
		if err := o.writeHTML(hs); err != nil && !o.stdoutBroken() {
			o.outputFailed("--html "+o.cfg.HTML, err)
		}
	}
	if o.failed != nil {
		return exitOutput
	}
	return exitOK
}

// writeHTML writes the HTML report to the --html file.
func (o *output) writeHTML(s analyze.Summary) error {
	sources := o.totals.Files
	if o.cfg.Interface != "" {
		sources = []string{"live: " + o.cfg.Interface}
	}
	if o.cfg.HTML == "-" {
		return report.HTML(o.stdout, s, sources)
	}
	f := o.htmlOut
	if f == nil {
		var err error
		if f, err = os.Create(o.cfg.HTML); err != nil {
			return err
		}
	}
	o.htmlOut = nil
	if err := report.HTML(f, s, sources); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// interim writes a report of the capture so far without changing it.
func (o *output) interim(at time.Time, open []analyze.Conn, segments int64) {
	if o.cfg.JSON {
		report.WriteInterim(o.stdout, at, open, o.conns, segments) // an error is kept by stickyWriter
		return
	}
	all := analyze.Summary{Conns: o.selection(append(append([]analyze.Conn{}, o.ended.conns...), open...)), Segments: segments}
	if isTerminal(o.sticky.w) {
		fmt.Fprint(o.stdout, "\033[H\033[2J") // redraw in place
	}
	stillOpen := report.StillOpen(open)
	fmt.Fprintf(o.stdout, "--- sshalive %s: %d packets, %s, %d ended ---\n", at.In(localZoneOr(o.cfg.UTC)).Format("15:04:05"), segments, openCount(stillOpen), o.conns+len(open)-stillOpen)
	report.Text(o.text(), all, report.Options{All: o.cfg.All})
	fmt.Fprintln(o.stdout)
}

// openCount is "1 open connection", "2 open connections".
func openCount(n int) string {
	if n == 1 {
		return "1 open connection"
	}
	return fmt.Sprintf("%d open connections", n)
}

// localZoneOr is the zone reports show: UTC with --utc, else local.
func localZoneOr(utc bool) *time.Location {
	if utc {
		return time.UTC
	}
	return localZone()
}
