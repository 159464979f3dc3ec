package analyze

import "time"

// since is a.Sub(b) for the packets' clock, without time.Time.Sub's cost
// (an Add and an Equal to detect overflow, on every packet several times):
// packet timestamps carry no monotonic reading, so the wall clock is the
// whole answer, and a difference too large for a Duration falls back to
// Sub, which saturates. Equal to a.Sub(b) for every pair of such times
// (TestSince).
func since(a, b time.Time) time.Duration {
	s := a.Unix() - b.Unix()
	if s > maxSinceSec || s < -maxSinceSec {
		return a.Sub(b)
	}
	return time.Duration(s)*time.Second + time.Duration(a.Nanosecond()-b.Nanosecond())
}

// maxSinceSec: differences up to this many seconds (about 272 years) fit a
// Duration with room for the nanoseconds.
const maxSinceSec = 1 << 33
