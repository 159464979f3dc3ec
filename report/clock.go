package report

import (
	"sync/atomic"
	"time"
)

// The zone times are shown in: UTC unless the program sets another (the
// command shows local time, as tcpdump does, and UTC with --utc). JSON is
// always RFC 3339 in UTC, whatever is set here.
var zone atomic.Pointer[time.Location]

// SetLocation sets the zone of the times in text and HTML reports.
func SetLocation(loc *time.Location) { zone.Store(loc) }

// shown is t in the zone reports show.
func shown(t time.Time) time.Time {
	if loc := zone.Load(); loc != nil {
		return t.In(loc)
	}
	return t.UTC()
}
