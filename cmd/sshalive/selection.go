package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/report"
)

// The report's selection (--cause), its zone (--utc) and its characters
// (ASCII where the locale is not UTF-8). Selection by host or port is the
// tcpdump expression's job ("port 22 and host 10.0.0.1"), as in tcpdump.

// causeNames are the values --cause takes: the end causes as the JSON
// names them.
func causeNames() []string {
	var out []string
	for c := analyze.CauseUnknown; c.String() != "unknown" || len(out) == 0; c++ {
		out = append(out, c.String())
	}
	return out
}

// checkCauses says which --cause value is not a cause.
func checkCauses(causes []string) error {
	names := causeNames()
	for _, c := range causes {
		if !slices.Contains(names, c) {
			return fmt.Errorf("--cause %s: not a cause (%s)", c, strings.Join(names, ", "))
		}
	}
	return nil
}

// selected reports whether c is in the report: every connection, or those
// that ended of one of the --cause causes.
func (o *output) selected(c analyze.Conn) bool {
	return len(o.cfg.Causes) == 0 || slices.Contains(o.cfg.Causes, c.End.Cause.String())
}

// selection is the connections of cs in the report.
func (o *output) selection(cs []analyze.Conn) []analyze.Conn {
	if len(o.cfg.Causes) == 0 {
		return cs
	}
	var out []analyze.Conn
	for _, c := range cs {
		if o.selected(c) {
			out = append(out, c)
		}
	}
	return out
}

// localZone is the zone of local time (tests pin it).
var localZone = func() *time.Location { return time.Local }

// setZone sets the zone text and HTML reports show times in: local time,
// as tcpdump shows it, or UTC. JSON is always UTC.
func setZone(utc bool) {
	if utc {
		report.SetLocation(time.UTC)
		return
	}
	report.SetLocation(localZone())
}

// getenv reads the environment (tests pin the locale).
var getenv = os.Getenv

// text is where the text report goes: stdout, spelled in ASCII when the
// locale is not UTF-8.
func (o *output) text() io.Writer {
	if report.UTF8Locale(getenv) {
		return o.stdout
	}
	return report.ASCII(o.stdout)
}
