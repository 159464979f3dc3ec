package analyze

import (
	"fmt"
	"math"
	"time"
)

// Thresholds of the end diagnosis.
const (
	// minLogoutIdle is the least silence of the client before the server
	// ends the session for that end to count as an idle logout rather than
	// an ordinary end right after traffic.
	minLogoutIdle = 2 * time.Second
	// logoutToClose bounds the time from the server's first data after the
	// silence to the connection's first FIN.
	logoutToClose = 10 * time.Second
	// rstAnswer bounds the time from a segment to an RST that answers it.
	rstAnswer = 2 * time.Second
)

// endFacts is what the end diagnosis looks at: the connection's summary so
// far and the flow state behind it.
type endFacts struct {
	first, last time.Time
	end         End // How, By, At
	ssh, tcp    []Keepalives
	bursts      []burst // most recent first
	lastReal    time.Time
	realSeen    bool
	out         [2]outstanding
	lastFrom    [2]time.Time // each end's last segment
}

func (f *flow) endFacts(c *Conn) endFacts {
	x := endFacts{first: f.first, last: f.last, end: c.End, ssh: c.SSH, tcp: c.TCP,
		lastReal: f.lastReal, realSeen: f.realSeen, out: f.out}
	n := min(f.nBursts, len(f.bursts))
	x.bursts = append([]burst(nil), f.bursts[:n]...)
	for i := range x.bursts {
		refineIdle(&x.bursts[i], c.SSH)
	}
	for d := range x.lastFrom {
		x.lastFrom[d] = f.dir[d].lastSeg
	}
	return x
}

func (f *flow) diagnose(c *Conn) End {
	return diagnose(f.endFacts(c))
}

func ev(at time.Time, format string, args ...any) Evidence {
	return Evidence{At: at, What: fmt.Sprintf(format, args...)}
}

func s1(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// diagnose tells why the connection ended, trying the causes from the most
// specific evidence to the least.
func diagnose(x endFacts) End {
	e := x.end
	e.Evidence = nil
	// Silence before the end: from the last non-keepalive data.
	if x.realSeen {
		ref := e.At
		if e.How == "open" {
			ref = x.last
		}
		if !x.lastReal.After(ref) {
			e.IdleBeforeEnd, e.HasIdle = ref.Sub(x.lastReal), true
		}
	}

	// TCP keepalive exhaustion: unanswered TCP probes, then the prober's RST.
	if e.How == "rst" {
		for _, k := range x.tcp {
			if k.Sender != e.By || k.TrailingUnanswered == 0 || k.Last.After(e.At) {
				continue
			}
			peer := k.Sender.Peer()
			e.Cause, e.Actor, e.UnansweredProbes = CauseTCPKeepaliveTimeout, k.Sender, k.TrailingUnanswered
			e.AliveUntil = x.lastFrom[peer]
			if e.AliveUntil.After(e.At) || e.AliveUntil.IsZero() {
				e.AliveUntil = time.Time{}
			} else {
				e.DetectedAfter = e.At.Sub(e.AliveUntil)
				e.Evidence = append(e.Evidence, ev(e.AliveUntil, "last packet from the %s", peer))
			}
			e.Evidence = append(e.Evidence,
				ev(k.FirstUnanswered, "first of %d TCP keepalives from the %s left unanswered", k.TrailingUnanswered, k.Sender),
				ev(e.At, "the %s resets the connection (RST): its kernel gave up", k.Sender))
			return e
		}
	}

	// A segment the peer never acknowledged, retransmitted or answered by an
	// RST: the path (or a middlebox on it) stopped delivering.
	stalled := -1
	for d := range x.out {
		o := x.out[d]
		rstAnswered := e.How == "rst" && e.By == Role(d).Peer() && !e.At.Before(o.at) && e.At.Sub(o.at) <= rstAnswer
		if o.on && (o.retrans > 0 || rstAnswered) && (stalled < 0 || o.at.Before(x.out[stalled].at)) {
			stalled = d
		}
	}
	if stalled >= 0 {
		d := Role(stalled)
		o := x.out[d]
		e.Actor = d
		for _, k := range x.ssh {
			if k.Sender == d && k.TrailingUnanswered > 0 {
				e.UnansweredProbes += k.TrailingUnanswered
			}
		}
		before := o.at.Add(-o.gap)
		answer := fmt.Sprintf("retransmitted %d times, never acknowledged", o.retrans)
		if o.retrans > 0 {
			answer += fmt.Sprintf(" (the last at %s)", o.lastRetrans.UTC().Format("15:04:05.000"))
		}
		if e.How == "rst" && e.By == d.Peer() && !e.At.Before(o.at) && e.At.Sub(o.at) <= rstAnswer {
			answer = "answered by an RST"
		}
		if o.gap >= o.survived*3/2 && o.gap-o.survived >= time.Second {
			e.Cause = CauseIdleDrop
			e.SurvivedIdle, e.FatalIdle = o.survived, o.gap
			e.AliveUntil = before
			e.Evidence = append(e.Evidence,
				ev(before, "last packet before a silence of %s (the longest silence before it, %s, was survived)", s1(o.gap), s1(o.survived)),
				ev(o.at, "the %s's first segment after the silence: %s", d, answer))
			return e
		}
		e.Cause = CauseDeadPath
		e.AliveUntil = x.lastFrom[d.Peer()]
		if e.AliveUntil.After(o.at) {
			e.AliveUntil = o.heard
		}
		what := "segment"
		if e.UnansweredProbes > 0 {
			what = "keepalive probe"
		}
		e.Evidence = append(e.Evidence,
			ev(e.AliveUntil, "last packet from the %s: the path worked until then", d.Peer()),
			ev(o.at, "the %s's %s: %s; later data and the FIN queue behind it, so CountMax cannot be read off the wire", d, what, answer))
		return e
	}

	// SSH keepalive timeout: probes acknowledged by TCP but not answered,
	// then the prober closes.
	if e.How != "open" {
		for _, k := range x.ssh {
			if k.Sender != e.By || k.TrailingUnanswered == 0 || k.Last.After(e.At) {
				continue
			}
			e.Cause, e.Actor, e.UnansweredProbes = CauseKeepaliveTimeout, k.Sender, k.TrailingUnanswered
			if !k.LastAnswered.IsZero() {
				e.AliveUntil = k.LastAnswered
				e.DetectedAfter = e.At.Sub(k.LastAnswered)
				e.Evidence = append(e.Evidence, ev(k.LastAnswered, "last probe from the %s answered", k.Sender))
			}
			e.Evidence = append(e.Evidence,
				ev(k.FirstUnanswered, "%d probes from the %s acknowledged by TCP but never answered: the peer's kernel is alive, its SSH process is not", k.TrailingUnanswered, k.Sender),
				ev(e.At, "the %s gives up and closes (%s)", k.Sender, e.How))
			return e
		}
	}

	if e.How == "open" {
		e.Cause = CauseOpen
		e.Evidence = append(e.Evidence, ev(x.last, "last packet: the capture ended with the connection open"))
		return e
	}

	// The burst of data the end belongs to.
	var b *burst
	for i := range x.bursts {
		if !x.bursts[i].at.After(e.At) {
			b = &x.bursts[i]
			break
		}
	}
	if b != nil && b.by == Server && b.idle >= minLogoutIdle && e.At.Sub(b.at) <= logoutToClose {
		e.Cause, e.Actor = CauseIdleLogout, Server
		e.IdleBeforeEnd, e.IdleAtLeast, e.HasIdle = b.idle, b.atLeast, true
		what := fmt.Sprintf("the server sends data after %s without input from the client", s1(b.idle))
		if b.atLeast {
			what = fmt.Sprintf("the server sends data after at least %s without input from the client (the silence began before the capture)", s1(b.idle))
		}
		e.Evidence = append(e.Evidence,
			ev(b.at, "%s", what),
			ev(e.At, "the %s closes (%s)", e.By, e.How))
		return e
	}
	if e.How == "fin" {
		e.Cause, e.Actor = CauseUserExit, e.By
		if b != nil && e.At.Sub(b.at) <= logoutToClose {
			e.Actor = b.by
			e.Evidence = append(e.Evidence, ev(b.at, "the %s sends data after %s", b.by, s1(b.idle)))
		}
		e.Evidence = append(e.Evidence, ev(e.At, "the %s closes (FIN)", e.By))
		return e
	}
	e.Cause, e.Actor = CauseUnknown, e.By
	e.Evidence = append(e.Evidence, ev(e.At, "the %s resets the connection (RST) without a sign of why", e.By))
	return e
}

// refineIdle raises a lower-bound silence with what the first keepalive
// probe implies: a keepalive timer fires one period after the last packet
// its sender received, so the silence began at least that long before it.
func refineIdle(b *burst, ssh []Keepalives) {
	if !b.atLeast {
		return
	}
	for _, k := range ssh {
		if k.TimerSeconds == 0 || !k.First.Before(b.at) {
			continue
		}
		if idle := b.at.Sub(k.First.Add(-time.Duration(k.TimerSeconds) * time.Second)); idle > b.idle {
			b.idle = idle
		}
	}
}

// risk compares the connection's silences and keepalive periods with the
// common middlebox idle timeouts.
func risk(c *Conn) Risk {
	r := Risk{LongestIdle: c.LongestIdle}
	consider := func(p time.Duration, by string) {
		if p > 0 && (r.EffectiveKeepalive == 0 || p < r.EffectiveKeepalive) {
			r.EffectiveKeepalive, r.EffectiveBy = p, by
		}
	}
	for _, k := range c.SSH {
		name := "ServerAliveInterval"
		if k.Sender == Server {
			name = "ClientAliveInterval"
		}
		switch {
		case k.Interval.N > 0:
			consider(k.Interval.Median, name)
		case k.TimerSeconds > 0:
			consider(time.Duration(k.TimerSeconds)*time.Second, name)
		}
	}
	for _, k := range c.TCP {
		name := "TCP keepalive (" + k.Sender.String() + ")"
		switch {
		case c.Inferred.TCPKeepaliveTime != nil && k.Answered > 0:
			consider(time.Duration(*c.Inferred.TCPKeepaliveTime)*time.Second, name)
		case k.Interval.N > 0 && k.Answered > 0:
			consider(k.Interval.Median, name)
		}
	}
	r.NoKeepalive = r.EffectiveKeepalive == 0
	for _, m := range Middleboxes {
		if r.LongestIdle >= m.Timeout || r.NoKeepalive || r.EffectiveKeepalive >= m.Timeout {
			r.DroppedBy = append(r.DroppedBy, m)
		}
	}
	return r
}

// countMax is the CountMax recommended with an interval: OpenSSH's default.
const countMax = 3

// recommend gives the settings to change for the environment observed:
// keepalives shorter than the idle timeouts the session meets, from the
// client (~/.ssh/config) or the server (sshd_config), with the resulting
// dead-peer detection time. quirk9x says the server is sshd 9.2–9.4, which
// probes at twice ClientAliveInterval.
func recommend(c *Conn, quirk9x bool) []Recommendation {
	var out []Recommendation
	e, r := c.End, c.Risk
	if e.Cause == CauseIdleLogout {
		out = append(out, Recommendation{Why: "keepalives do not stop the server's own idle logout (a shell's TMOUT, or the remote command ending): if the logout is unwanted, raise or unset TMOUT on the server"})
	}
	interval := 60
	why := "probes every 60 s stay under the shortest common idle timeout (Azure's 240 s)"
	if e.Cause == CauseIdleDrop {
		interval = max(1, min(60, int(math.Floor(e.SurvivedIdle.Seconds()/2))))
		why = fmt.Sprintf("the path here forgot the connection after more than %s and less than %s idle: probes every %d s keep it", s1(e.SurvivedIdle), s1(e.FatalIdle), interval)
	}
	need := len(r.DroppedBy) > 0 || e.Cause == CauseIdleDrop || e.Cause == CauseTCPKeepaliveTimeout
	if r.EffectiveKeepalive > 0 && r.EffectiveKeepalive <= time.Duration(interval)*time.Second && e.Cause != CauseIdleDrop {
		need = false
	}
	if !need {
		return out
	}
	detect := time.Duration((countMax+1)*interval) * time.Second
	out = append(out, Recommendation{File: "~/.ssh/config",
		Lines:         []string{fmt.Sprintf("ServerAliveInterval %d", interval), fmt.Sprintf("ServerAliveCountMax %d", countMax)},
		DeadPeerAfter: detect, Why: why})
	set := interval
	swhy := "the same from the server, for every client"
	if quirk9x {
		set = max(1, interval/2)
		swhy += fmt.Sprintf(" (this sshd, 9.2–9.4, probes at twice ClientAliveInterval: %d gives probes every ~%d s)", set, 2*set)
	}
	out = append(out, Recommendation{File: "sshd_config",
		Lines:         []string{fmt.Sprintf("ClientAliveInterval %d", set), fmt.Sprintf("ClientAliveCountMax %d", countMax)},
		DeadPeerAfter: time.Duration((countMax+1)*max(set, 2*set*boolInt(quirk9x))) * time.Second, Why: swhy})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
