package analyze

import "time"

// Middlebox is a common stateful device with a default idle timeout
// (FACTS.md §5).
type Middlebox struct {
	ID      string // stable identifier for the JSON output
	Name    string
	Timeout time.Duration
}

// Middleboxes returns the idle timeouts a session is compared with,
// shortest first.
func Middleboxes() []Middlebox {
	return []Middlebox{
		{"azure", "Azure LB/NAT", 240 * time.Second},
		{"aws", "AWS NAT/NLB", 350 * time.Second},
		{"gcp-vpc", "GCP VPC", 600 * time.Second},
		{"ipvs", "IPVS", 900 * time.Second},
		{"gcp-cloud-nat", "GCP Cloud NAT", 1200 * time.Second},
		{"firewall", "firewalls", 3600 * time.Second},
	}
}

// Mechanism names a keepalive mechanism: its layer, who sends it and, for
// SSH keepalives, the setting behind them as the sender's implementation
// names it.
type Mechanism struct {
	TCP     bool // TCP keepalive, else SSH
	Sender  Role
	Setting string
}

// Risk compares a connection's silences and keepalives with common
// middlebox idle timeouts.
type Risk struct {
	LongestIdle time.Duration
	// EffectiveKeepalive is the shortest keepalive period seen on the wire
	// (0: no keepalive seen); EffectiveBy names the mechanism.
	EffectiveKeepalive time.Duration
	EffectiveBy        Mechanism
	// DroppedBy are the middleboxes whose idle timeout the session would
	// not survive: a silence that long was seen, or no keepalive seen comes
	// often enough to prevent one.
	DroppedBy []Middlebox
	// NoKeepalive: no keepalive of any kind was seen; at best the default
	// TCPKeepAlive (first probe after 2 h, if enabled) protects the session.
	NoKeepalive bool
}

// risk compares the connection's silences and keepalive periods with the
// common middlebox idle timeouts.
func risk(c *Conn) Risk {
	r := Risk{LongestIdle: c.LongestIdle}
	consider := func(p time.Duration, by Mechanism) {
		if p > 0 && (r.EffectiveKeepalive == 0 || p < r.EffectiveKeepalive) {
			r.EffectiveKeepalive, r.EffectiveBy = p, by
		}
	}
	for _, k := range c.SSH {
		by := Mechanism{Sender: k.Sender, Setting: settingName(c.Implementations[k.Sender].Name, k.Sender)}
		switch {
		case k.Interval.N > 0:
			consider(k.Every(), by)
		case k.TimerSeconds > 0:
			consider(time.Duration(k.TimerSeconds)*time.Second, by)
		}
	}
	for _, k := range c.TCP {
		by := Mechanism{TCP: true, Sender: k.Sender}
		// the period on the wire (the kernel's time plus the round trip
		// and its timer wheel; retries of unanswered probes aside); the
		// inferred time when one probe shows
		switch {
		case k.Interval.N > 0 && k.Answered > 0:
			consider(k.Every(), by)
		case c.Inferred.TCPKeepaliveTime != nil && k.Answered > 0:
			consider(time.Duration(*c.Inferred.TCPKeepaliveTime)*time.Second, by)
		}
	}
	r.NoKeepalive = r.EffectiveKeepalive == 0
	for _, m := range Middleboxes() {
		if r.LongestIdle >= m.Timeout || r.NoKeepalive || r.EffectiveKeepalive >= m.Timeout {
			r.DroppedBy = append(r.DroppedBy, m)
		}
	}
	return r
}
