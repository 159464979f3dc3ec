package analyze

import (
	"math"
	"time"
)

// Recommendation is a change of settings for the environment observed, or
// advice no setting carries out (File ""). report words it.
type Recommendation struct {
	File     string    // "~/.ssh/config" or "sshd_config"; "" when no setting helps
	Settings []Setting // the lines to add
	// DeadPeerAfter is the resulting dead-peer detection time (0: n/a).
	DeadPeerAfter time.Duration
	Advice        Advice
	// Interval is the probe period the settings give, in seconds.
	Interval int
	// Survived and Fatal: AdviceIdleDrop's bracket.
	Survived, Fatal time.Duration
	// SSHD92: AdviceServer for sshd 9.2–9.4, which probes at twice its
	// ClientAliveInterval (Settings hold the halved value).
	SSHD92 bool
}

// Advice says why a recommendation is made.
type Advice uint8

// Kinds of advice.
const (
	AdviceTMOUT      Advice = iota + 1 // keepalives do not stop the server's own idle logout
	AdviceShortest                     // probes every Interval s stay under the shortest common idle timeout
	AdviceIdleDrop                     // this path forgot the connection between Survived and Fatal idle
	AdviceServer                       // the same from the server, for every client
	AdviceServerIdle                   // the server's own idle timeout closed the session: keepalives do not count for it
)

// countMax is the CountMax recommended with an interval: OpenSSH's default.
const countMax = 3

// Where a recommendation's settings go, by implementation and side.
const (
	FileSSHConfig  = "~/.ssh/config"
	FileSSHDConfig = "sshd_config"
	FilePuTTY      = "PuTTY saved session"
	FileDbclient   = "dbclient options"
	FileDropbear   = "dropbear options"
	FileProgram    = "the program's code" // paramiko, AsyncSSH, libssh, libssh2, Go
)

// recommend gives the settings to change for the environment observed:
// keepalives shorter than the idle timeouts the session meets, from the
// client or the server, in the setting each end's implementation has, with
// the resulting dead-peer detection time. A side that already sends
// keepalives is told a shorter interval; when either side does, no
// keepalive is added to the other. sshd92 says the server is sshd 9.2–9.4,
// which probes at twice ClientAliveInterval.
func recommend(c *Conn, sshd92 bool) []Recommendation {
	var out []Recommendation
	e, r := c.End, c.Risk
	switch {
	case e.Cause == CauseIdleLogout && e.Logout == LogoutBare:
		out = append(out, Recommendation{Advice: AdviceServerIdle})
	case e.Cause == CauseIdleLogout:
		out = append(out, Recommendation{Advice: AdviceTMOUT})
	}
	interval, advice := 60, AdviceShortest
	if e.Cause == CauseIdleDrop {
		interval = max(1, min(60, int(math.Floor(e.SurvivedIdle.Seconds()/2))))
		advice = AdviceIdleDrop
	}
	need := len(r.DroppedBy) > 0 || e.Cause == CauseIdleDrop || e.Cause == CauseTCPKeepaliveTimeout
	if r.EffectiveKeepalive > 0 && r.EffectiveKeepalive <= time.Duration(interval)*time.Second && e.Cause != CauseIdleDrop {
		need = false
	}
	if !need {
		return out
	}
	sides := []Role{Client, Server}
	if has := probers(c); len(has) > 0 {
		sides = has
	}
	for _, side := range sides {
		rec := forSide(c.Implementations[side].Name, side, interval, sshd92)
		if side == Client || len(sides) == 1 {
			rec.Advice, rec.Survived, rec.Fatal = advice, e.SurvivedIdle, e.FatalIdle
		}
		if rec.Advice != AdviceIdleDrop {
			rec.Survived, rec.Fatal = 0, 0
		}
		out = append(out, rec)
	}
	return out
}

// probers are the sides that send SSH keepalives.
func probers(c *Conn) []Role {
	var out []Role
	for _, side := range []Role{Client, Server} {
		for _, k := range c.SSH {
			if k.Sender == side {
				out = append(out, side)
				break
			}
		}
	}
	return out
}

// forSide is the recommendation of a keepalive every interval s from side,
// whose implementation is impl, in that implementation's setting.
func forSide(impl string, side Role, interval int, sshd92 bool) Recommendation {
	set := func(name string, v int) Setting {
		return Setting{Side: side, Implementation: impl, Name: name, Value: v}
	}
	rec := Recommendation{Advice: AdviceServer, Interval: interval}
	switch impl {
	case ImplOpenSSH, "":
		if side == Client {
			rec.File = FileSSHConfig
			rec.Settings = []Setting{set("ServerAliveInterval", interval), set("ServerAliveCountMax", countMax)}
		} else {
			v := interval
			if sshd92 {
				v = max(1, interval/2)
				rec.Interval, rec.SSHD92 = 2*v, true
			}
			rec.File = FileSSHDConfig
			rec.Settings = []Setting{set("ClientAliveInterval", v), set("ClientAliveCountMax", countMax)}
		}
		rec.DeadPeerAfter = time.Duration((countMax+1)*rec.Interval) * time.Second
		return rec
	case ImplPuTTY:
		rec.File = FilePuTTY
	case ImplDropbear:
		rec.File = FileDropbear
		if side == Client {
			rec.File = FileDbclient
		}
	default:
		rec.File = FileProgram
	}
	rec.Settings = []Setting{set(settingName(impl, side), interval)}
	return rec
}
