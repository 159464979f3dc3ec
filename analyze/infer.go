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
	// Settings are the keepalive settings behind each sender's SSH probes,
	// named as that sender's implementation names them.
	Settings []Setting
}

// Setting is a keepalive setting the wire implies (in Inferred), or one to
// set (in a Recommendation).
type Setting struct {
	Side           Role
	Implementation string // Implementation.Name; "" when the banner was not captured
	Name           string // as the implementation names it ("ServerAliveInterval", "PingIntervalSecs", "-K")
	Value          int    // seconds, or a count for CountMax
	Evidence       SettingEvidence
	// Probably: the banner cannot settle it (sshd 9.2–9.4 doubles its
	// period unless the distribution backported the 9.5 fix).
	Probably bool
}

// SettingEvidence says what an inferred setting rests on.
type SettingEvidence uint8

// Kinds of evidence for a setting.
const (
	EvidenceNone     SettingEvidence = iota
	EvidenceSilence                  // the silence before each probe, as the sender's timer counts it
	EvidenceInterval                 // the spacing of the probes (fixed schedules, timers reset by own sends)
	EvidenceDoubled                  // the spacing is twice the setting (sshd 9.2–9.4)
	EvidenceCountMax                 // unanswered probes before the prober closed
)

func (e SettingEvidence) String() string {
	switch e {
	case EvidenceSilence:
		return "probe-silence"
	case EvidenceInterval:
		return "probe-interval"
	case EvidenceDoubled:
		return "sshd-9.2-doubling"
	case EvidenceCountMax:
		return "unanswered-before-close"
	}
	return ""
}

// settingName is what impl calls its keepalive interval on side; "" for
// OpenSSH and unknown software, whose settings are ServerAliveInterval and
// ClientAliveInterval.
func settingName(impl string, side Role) string {
	switch impl {
	case ImplPuTTY:
		return "PingIntervalSecs"
	case ImplDropbear:
		return "-K"
	case ImplParamiko:
		return "Transport.set_keepalive"
	case ImplAsyncSSH:
		return "keepalive_interval"
	case ImplLibssh2:
		return "libssh2_keepalive_config"
	case ImplLibssh:
		return "ssh_send_keepalive timer"
	case ImplGo:
		return "SendRequest timer"
	case ImplOpenSSH, "":
		if side == Client {
			return "ServerAliveInterval"
		}
		return "ClientAliveInterval"
	}
	return "keepalive interval"
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
		impl := c.Implementations[k.Sender].Name
		switch {
		case impl != "" && impl != ImplOpenSSH:
			inferOther(&inf, k, impl)
		case k.TimerSeconds > 0:
			inferSSH(&inf, c, k, server)
		}
	}
	for _, k := range c.TCP {
		inferTCP(&inf, c, k, tcp[k.Sender])
	}
	return inf
}

// inferOther reads the interval of another implementation's keepalives:
// off the spacing of its probes for PuTTY and programs' own tickers (a
// fixed schedule), off the silence before them for the timers that wait
// for one (paramiko's since its own sends, Dropbear's since nothing was
// sent or received, AsyncSSH's since data came).
func inferOther(inf *Inferred, k Keepalives, impl string) {
	v, ev := 0, EvidenceInterval
	switch {
	case k.TimerSeconds > 0 && !fixedSchedule(impl):
		// a timer that waits for silence: its probes' spacing grows with
		// the traffic between them, the silence before them does not
		v, ev = k.TimerSeconds, EvidenceSilence
	case k.Interval.N > 0:
		v = max(1, secs(k.Interval.Median))
	case k.TimerSeconds > 0:
		v, ev = k.TimerSeconds, EvidenceSilence
	default:
		return
	}
	for _, s := range inf.Settings {
		if s.Side == k.Sender && s.Name == settingName(impl, k.Sender) {
			return
		}
	}
	inf.Settings = append(inf.Settings, Setting{Side: k.Sender, Implementation: impl, Name: settingName(impl, k.Sender), Value: v, Evidence: ev})
}

// inferSSH reads ServerAlive/ClientAlive interval and CountMax off one
// sender's SSH probes (OpenSSH, or software the banner does not name).
func inferSSH(inf *Inferred, c *Conn, k Keepalives, server Banner) {
	v := k.TimerSeconds
	period := time.Duration(v) * time.Second
	_, _, isOpenSSH := server.OpenSSHVersion()
	impl := ""
	if isOpenSSH || k.Sender == Client && c.Implementations[Client].Name == ImplOpenSSH {
		impl = ImplOpenSSH
	}
	set := Setting{Side: k.Sender, Implementation: impl, Name: settingName(impl, k.Sender), Value: v, Evidence: EvidenceSilence}
	switch {
	case k.Sender == Client:
		if inf.ServerAliveInterval != nil {
			break
		}
		inf.ServerAliveInterval = intp(v)
		inf.Settings = append(inf.Settings, set)
	case inf.ClientAliveInterval != nil:
	case server.sshd92():
		half := max(1, (v+1)/2)
		inf.ClientAliveInterval = intp(half)
		inf.Notes = append(inf.Notes, Note{Kind: NoteSSHD92, Software: server.Software, Wire: v, Setting: half})
		set.Value, set.Evidence, set.Probably = half, EvidenceDoubled, true
		inf.Settings = append(inf.Settings, set)
	default:
		inf.ClientAliveInterval = intp(v)
		if !isOpenSSH && server.Software == "" {
			inf.Notes = append(inf.Notes, Note{Kind: NoteServerUnknown, Wire: v, Setting: max(1, (v+1)/2)})
		}
		inf.Settings = append(inf.Settings, set)
	}
	// CountMax: the prober closed about one interval after a run of
	// unanswered probes that its peer's TCP stack still acknowledged.
	if k.TrailingUnanswered > 0 && c.End.How != "open" && c.End.By == k.Sender {
		after := since(c.End.At, k.Last)
		if after >= period/2 && after <= period*3/2+time.Second {
			n := intp(k.TrailingUnanswered)
			name := "ServerAliveCountMax"
			if k.Sender == Client {
				inf.ServerAliveCountMax = n
			} else {
				inf.ClientAliveCountMax, name = n, "ClientAliveCountMax"
			}
			inf.Settings = append(inf.Settings, Setting{Side: k.Sender, Implementation: impl, Name: name, Value: *n, Evidence: EvidenceCountMax})
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
			gaps = append(gaps, since(ps[i].at, ps[i-1].at))
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
