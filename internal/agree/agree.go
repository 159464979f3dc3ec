// Package agree checks that what a connection record says agrees with
// itself: the inferred settings with the intervals the sentences show, the
// risk line's keepalive period with the keepalives, and the
// recommendations with the keepalives already there. The tests run it over
// every lab capture and the generator's files.
package agree

import (
	"fmt"
	"math"

	"github.com/sshalive/sshalive/report"
)

// Check returns what disagrees in j (nil: nothing).
func Check(j report.JSONConn) []string {
	var out []string
	out = append(out, settings(j)...)
	out = append(out, risk(j)...)
	out = append(out, recommendations(j)...)
	return out
}

// settings: a timer of V seconds fires after V s of silence (ssh's
// whole-second deadline up to a second sooner; a slow path and a far
// capture point add a round trip), sshd 9.2–9.4 after 2 V: so probes come
// at least that far apart, and an idle session's exactly that far; a fixed
// schedule every V, rounded.
func settings(j report.JSONConn) []string {
	var out []string
	for _, k := range j.SSHKeepalives {
		if k.Interval == nil {
			continue
		}
		// the round trip the prober's timer sees: the reply's latency at
		// the prober's side, the connection's at the far side
		rtt := 0.0
		if k.ReplyLatency != nil {
			rtt = k.ReplyLatency.Max
		}
		if j.RTT != nil {
			rtt = max(rtt, *j.RTT)
		}
		for _, s := range j.Inferred.Settings {
			if s.Side != k.Sender || s.Evidence == "unanswered-before-close" {
				continue
			}
			lo, hi := float64(s.Value)-0.1, float64(s.Value)+1.1+2*rtt
			switch s.Evidence {
			case "sshd-9.2-doubling":
				lo, hi = 2*float64(s.Value)-0.1, 2*float64(s.Value)+1.1+2*rtt
			case "probe-interval":
				lo, hi = float64(s.Value)-0.5, float64(s.Value)+0.5
			}
			if m := k.Interval.Median; m < lo-1 {
				out = append(out, fmt.Sprintf("%s keepalives every %.2f s, but %s %d implies at least %.1f s", k.Sender, m, s.Name, s.Value, lo-1))
			}
			// the timer's own view: the silence before each probe
			if k.IdleBefore != nil && s.Evidence != "probe-interval" {
				if m := k.IdleBefore.Median; m < lo-1 || m > hi {
					out = append(out, fmt.Sprintf("%s keepalives after %.2f s of silence, but %s %d implies %.1f–%.1f s", k.Sender, m, s.Name, s.Value, lo-1, hi))
				}
			}
		}
	}
	return out
}

// risk: the effective keepalive period is the shortest SSH keepalive
// interval shown, or answered TCP keepalive period.
func risk(j report.JSONConn) []string {
	if j.Risk.EffectiveKeepalive == nil {
		return nil
	}
	shortest := math.Inf(1)
	for _, k := range j.SSHKeepalives {
		if k.Interval != nil {
			shortest = math.Min(shortest, k.Interval.Median)
		}
	}
	for _, k := range j.TCPKeepalives {
		if k.Period != nil && k.Answered > 0 {
			shortest = math.Min(shortest, *k.Period)
		}
	}
	if !math.IsInf(shortest, 1) && math.Abs(*j.Risk.EffectiveKeepalive-shortest) > 0.001 {
		return []string{fmt.Sprintf("risk says keepalives every %.3f s, the entries every %.3f s at the shortest", *j.Risk.EffectiveKeepalive, shortest)}
	}
	return nil
}

// recommendations: where a side sends keepalives, none is added to the
// other, and none recommended is longer than what is there.
func recommendations(j report.JSONConn) []string {
	var out []string
	probers := map[string]float64{} // sides that send SSH keepalives
	for _, k := range j.SSHKeepalives {
		probers[k.Sender] = 0
	}
	if len(probers) == 0 {
		return nil
	}
	for _, r := range j.Recommendations {
		side := ""
		switch r.File {
		case "", "sshd_config", "dropbear options":
			if r.File != "" {
				side = "server"
			}
		default:
			side = "client"
		}
		if side == "" {
			continue
		}
		if _, ok := probers[side]; !ok {
			out = append(out, fmt.Sprintf("recommends keepalives from the %s (%s) although the %s already sends them", side, r.File, otherSide(side)))
		}
	}
	return out
}

func otherSide(s string) string {
	if s == "client" {
		return "server"
	}
	return "client"
}
