package analyze

import (
	"math"
	"slices"
	"time"
)

// Stats summarises a set of durations.
type Stats struct {
	N                     int
	Min, P25, Median, P75 time.Duration
	Max                   time.Duration
}

func newStats(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return Stats{N: len(s), Min: s[0], P25: quantile(s, 0.25), Median: quantile(s, 0.5), P75: quantile(s, 0.75), Max: s[len(s)-1]}
}

// quantile interpolates linearly between the closest ranks of sorted s.
func quantile(s []time.Duration, q float64) time.Duration {
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	frac := pos - float64(i)
	return s[i] + time.Duration(frac*float64(s[i+1]-s[i]))
}

// secs rounds a duration to whole seconds.
func secs(d time.Duration) int {
	return int(math.Round(d.Seconds()))
}

func intp(v int) *int { return &v }
