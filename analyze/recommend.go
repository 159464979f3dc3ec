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

// Setting is one configuration line: a name and its value.
type Setting struct {
	Name  string
	Value int
}

// Advice says why a recommendation is made.
type Advice uint8

// Kinds of advice.
const (
	AdviceTMOUT    Advice = iota + 1 // keepalives do not stop the server's own idle logout
	AdviceShortest                   // probes every Interval s stay under the shortest common idle timeout
	AdviceIdleDrop                   // this path forgot the connection between Survived and Fatal idle
	AdviceServer                     // the same from the server, for every client
)

// countMax is the CountMax recommended with an interval: OpenSSH's default.
const countMax = 3

// recommend gives the settings to change for the environment observed:
// keepalives shorter than the idle timeouts the session meets, from the
// client (~/.ssh/config) or the server (sshd_config), with the resulting
// dead-peer detection time. sshd92 says the server is sshd 9.2–9.4, which
// probes at twice ClientAliveInterval.
func recommend(c *Conn, sshd92 bool) []Recommendation {
	var out []Recommendation
	e, r := c.End, c.Risk
	if e.Cause == CauseIdleLogout {
		out = append(out, Recommendation{Advice: AdviceTMOUT})
	}
	client := Recommendation{File: "~/.ssh/config", Advice: AdviceShortest, Interval: 60}
	if e.Cause == CauseIdleDrop {
		client.Interval = max(1, min(60, int(math.Floor(e.SurvivedIdle.Seconds()/2))))
		client.Advice, client.Survived, client.Fatal = AdviceIdleDrop, e.SurvivedIdle, e.FatalIdle
	}
	need := len(r.DroppedBy) > 0 || e.Cause == CauseIdleDrop || e.Cause == CauseTCPKeepaliveTimeout
	if r.EffectiveKeepalive > 0 && r.EffectiveKeepalive <= time.Duration(client.Interval)*time.Second && e.Cause != CauseIdleDrop {
		need = false
	}
	if !need {
		return out
	}
	interval := client.Interval
	client.Settings = []Setting{{"ServerAliveInterval", interval}, {"ServerAliveCountMax", countMax}}
	client.DeadPeerAfter = time.Duration((countMax+1)*interval) * time.Second
	set, period := interval, interval
	if sshd92 {
		set = max(1, interval/2)
		period = 2 * set
	}
	server := Recommendation{File: "sshd_config", Advice: AdviceServer, Interval: period, SSHD92: sshd92,
		Settings:      []Setting{{"ClientAliveInterval", set}, {"ClientAliveCountMax", countMax}},
		DeadPeerAfter: time.Duration((countMax+1)*period) * time.Second}
	return append(out, client, server)
}
