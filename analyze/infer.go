package analyze

import (
	"math"
	"time"
)

// Inferred holds the settings the wire implies; a nil pointer means the
// capture cannot tell.
type Inferred struct {
	ServerAliveInterval *int
	ServerAliveCountMax *int
	ClientAliveInterval *int
	ClientAliveCountMax *int
	TCPKeepaliveTime    *int // seconds
	TCPKeepaliveIntvl   *int
	TCPKeepaliveProbes  *int
	// Notes qualify the inference (version quirks, ambiguity).
	Notes []Note
}

// Note qualifies an inferred setting.
type Note struct {
	Kind NoteKind
	// Software is the server's banner software ("OpenSSH_9.2p1").
	Software string
	// Wire is the period seen on the wire and Setting the value inferred
	// from it, in seconds.
	Wire, Setting int
}

// NoteKind names a Note.
type NoteKind uint8

// Kinds of note.
const (
	// NoteSSHD92 : sshd 9.2–9.4 probes at twice ClientAliveInterval.
	NoteSSHD92 NoteKind = iota + 1
	// NoteServerUnknown: no banner, so the doubling cannot be ruled out;
	// Setting is the value if it is sshd 9.2–9.4.
	NoteServerUnknown
)

// infer derives the settings the probes imply. server is the server's
// banner; tcp the TCP keepalives per prober.
func infer(c *Conn, server Banner, tcp [2][]tcpProbe) Inferred {
	var inf Inferred
	for _, k := range c.SSH {
		if k.TimerSeconds > 0 {
			inferSSH(&inf, c, k, server)
		}
	}
	for _, k := range c.TCP {
		inferTCP(&inf, c, k, tcp[k.Sender])
	}
	return inf
}

// inferSSH reads ServerAlive/ClientAlive interval and CountMax off one
// sender's SSH probes.
func inferSSH(inf *Inferred, c *Conn, k Keepalives, server Banner) {
	v := k.TimerSeconds
	period := time.Duration(v) * time.Second
	_, _, isOpenSSH := server.OpenSSHVersion()
	switch {
	case k.Sender == Client:
		if inf.ServerAliveInterval == nil {
			inf.ServerAliveInterval = intp(v)
		}
	case inf.ClientAliveInterval != nil:
	case server.sshd92():
		half := max(1, (v+1)/2)
		inf.ClientAliveInterval = intp(half)
		inf.Notes = append(inf.Notes, Note{Kind: NoteSSHD92, Software: server.Software, Wire: v, Setting: half})
	default:
		inf.ClientAliveInterval = intp(v)
		if !isOpenSSH && server.Software == "" {
			inf.Notes = append(inf.Notes, Note{Kind: NoteServerUnknown, Wire: v, Setting: max(1, (v+1)/2)})
		}
	}
	// CountMax: the prober closed about one interval after a run of
	// unanswered probes that its peer's TCP stack still acknowledged.
	if k.TrailingUnanswered > 0 && c.End.How != "open" && c.End.By == k.Sender {
		after := c.End.At.Sub(k.Last)
		if after >= period/2 && after <= period*3/2+time.Second {
			n := intp(k.TrailingUnanswered)
			if k.Sender == Client {
				inf.ServerAliveCountMax = n
			} else {
				inf.ClientAliveCountMax = n
			}
		}
	}
}

// inferTCP reads the kernel's keepalive time, interval and probe count off
// one sender's TCP keepalives.
func inferTCP(inf *Inferred, c *Conn, k Keepalives, ps []tcpProbe) {
	if k.Answered > 0 {
		if t := firstAnsweredIdle(ps); t > 0 {
			inf.TCPKeepaliveTime = intp(max(1, secs(t)))
		}
	} else if k.IdleBefore.N > 0 {
		inf.TCPKeepaliveTime = intp(max(1, secs(ps[0].idle)))
	}
	if k.TrailingUnanswered >= 2 {
		var gaps []time.Duration
		for i := len(ps) - k.TrailingUnanswered + 1; i < len(ps); i++ {
			gaps = append(gaps, ps[i].at.Sub(ps[i-1].at))
		}
		inf.TCPKeepaliveIntvl = intp(max(1, secs(newStats(gaps).Median)))
	}
	if k.TrailingUnanswered > 0 && c.End.How == "rst" && c.End.By == k.Sender {
		inf.TCPKeepaliveProbes = intp(k.TrailingUnanswered)
	}
}

func firstAnsweredIdle(ps []tcpProbe) time.Duration {
	for _, p := range ps {
		if p.answered {
			return p.idle
		}
	}
	return 0
}

// timerSeconds estimates the period of a keepalive timer from the silences
// that preceded its probes, as the most common per-probe value (ties to the
// larger).
//
// ssh (the client's ServerAlive) arms its timer as "now + interval" in whole
// seconds of its monotonic clock, so a probe comes more than interval-1 and
// at most interval seconds after the last read, plus a few milliseconds of
// wake-up: ceil(silence - 50 ms) is the interval. sshd (ClientAlive) waits
// in ppoll for the interval and then compares whole seconds, so its probes
// come a whole number of periods after the last read, late by scheduling
// noise: the silence rounded.
func timerSeconds(idles []time.Duration, sender Role) int {
	count := map[int]int{}
	best := 0
	for _, d := range idles {
		v := int(math.Round(d.Seconds()))
		if sender == Client {
			v = int(math.Ceil((d - 50*time.Millisecond).Seconds()))
		}
		v = max(1, v)
		count[v]++
		if count[v] > count[best] || count[v] == count[best] && v > best {
			best = v
		}
	}
	return best
}
