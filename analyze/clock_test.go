package analyze

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestSince: since equals time.Time.Sub for packet times (no monotonic
// reading) from 1970 to 9999, the range the readers give, near and far
// apart, saturation included.
func TestSince(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	at := func(sec int64) time.Time { return time.Unix(sec, r.Int64N(1e9)).UTC() }
	const max = 253402300799 // 9999-12-31
	for range 200000 {
		a := at(r.Int64N(max))
		var b time.Time
		switch r.IntN(3) {
		case 0:
			b = at(r.Int64N(max))
		case 1:
			b = a.Add(time.Duration(r.Int64N(int64(48*time.Hour))) - 24*time.Hour)
		default:
			b = at(a.Unix() + r.Int64N(1<<34) - 1<<33)
		}
		if got, want := since(a, b), a.Sub(b); got != want {
			t.Fatalf("since(%v, %v) = %v, Sub = %v", a, b, got, want)
		}
	}
	for _, p := range [][2]time.Time{{time.Unix(0, 0), time.Unix(max, 999999999)}, {time.Unix(max, 999999999), time.Unix(0, 0)}, {{}, time.Unix(max, 0)}} {
		if got, want := since(p[0], p[1]), p[0].Sub(p[1]); got != want {
			t.Errorf("since(%v, %v) = %v, Sub = %v", p[0], p[1], got, want)
		}
	}
}
