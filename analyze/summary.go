package analyze

import (
	"net/netip"
	"slices"
	"time"
)

// Role is one end of a connection. It doubles as the index of the direction
// that end sends: Client is client→server.
type Role uint8

// The two ends.
const (
	Client Role = iota
	Server
)

func (r Role) String() string {
	if r == Client {
		return "client"
	}
	return "server"
}

// Peer is the other end.
func (r Role) Peer() Role { return 1 - r }

// Summary is the result of an analysis: one Conn per connection, in order of
// first appearance, and counters.
type Summary struct {
	Conns    []Conn
	Segments int64 // TCP segments observed
	Evicted  int   // connections summarised early because the table was full
	// NoData counts connections with a SYN but no data and no keepalive
	// (SYN scans, refused or abandoned connects): counted, not listed.
	NoData int
}

// Conn is everything learnt about one TCP connection.
type Conn struct {
	Client, Server netip.AddrPort
	FirstSeen      time.Time
	LastSeen       time.Time
	Packets        int
	Handshake      bool // the TCP SYN was captured
	Banners        [2]string
	Ciphers        [2]CipherSpec // negotiated per direction (index: sender)
	CipherKnown    [2]bool
	SSH            []Keepalives // SSH-layer keepalives, one entry per sender and probe size
	TCP            []Keepalives // TCP keepalives, one entry per sender
	End            End
	LongestIdle    time.Duration // longest gap with no packet in either direction
	Inferred       Inferred
	Risk           Risk
	// Recommendations are the settings to change, if any (see recommend).
	Recommendations []Recommendation
	// Activity is the connection's timeline in at most 64 time buckets:
	// always kept, whatever the connection's length.
	Activity Activity
	Events   []Event // the packet timeline, when Config.Events is set
	// EventsDropped counts packets left out of Events by Config.MaxEvents
	// (the middle of the connection: its first and last packets are kept).
	EventsDropped int
	Evicted       bool // summarised before its end because of the table limits
}

// Keepalives describes the keepalive probes one end sent.
type Keepalives struct {
	Sender       Role
	Kind         ProbeKind
	Probes       int
	Answered     int
	ProbeBytes   int
	ReplyBytes   int // 0 when none was answered
	First, Last  time.Time
	Interval     Stats // spacing between consecutive probes
	IdleBefore   Stats // silence from the peer before each probe: the timer's view
	ReplyLatency Stats
	// LongestUnanswered is the longest run of consecutive unanswered probes;
	// TrailingUnanswered the run that ends the capture or connection.
	LongestUnanswered  int
	TrailingUnanswered int
	// LastAnswered is the last answered probe (zero if none);
	// FirstUnanswered the first probe of the trailing unanswered run.
	LastAnswered, FirstUnanswered time.Time
	// TimerSeconds is the sender's keepalive period as its whole-second timer
	// saw it (SSH probes only; 0 when unknown): see timerSeconds.
	TimerSeconds int
	// Mode says how SSH probes were recognised: "handshake" (exact sizes from
	// the negotiated cipher) or "pattern" (sizes and timing, no handshake).
	Mode string
}

// ProbeKind names the message a keepalive probe is.
type ProbeKind uint8

// Kinds of probe.
const (
	KindGlobalRequest  ProbeKind = iota // SSH_MSG_GLOBAL_REQUEST keepalive@openssh.com
	KindChannelRequest                  // SSH_MSG_CHANNEL_REQUEST keepalive@openssh.com
	KindSSHUnknown                      // an SSH-layer probe whose message could not be told
	KindTCP                             // TCP keepalive segment
)

func (k ProbeKind) String() string {
	switch k {
	case KindGlobalRequest:
		return "global-request"
	case KindChannelRequest:
		return "channel-request"
	case KindSSHUnknown:
		return "ssh"
	case KindTCP:
		return "tcp"
	}
	return "unknown"
}

// End says how a connection ended, and why.
type End struct {
	How string // "fin", "rst" or "open" (the capture ended first)
	By  Role   // meaningful unless How is "open"
	At  time.Time

	Cause Cause
	// Actor is the end that gave up, logged out or exited (the prober for
	// a keepalive timeout, the server for an idle logout, the sender of the
	// stalled segment for a dead path or idle drop).
	Actor Role
	// UnansweredProbes: keepalive probes sent without an answer before the
	// end (those on the wire; on a dead path later ones queue unseen).
	UnansweredProbes int
	// IdleBeforeEnd is the silence (no data either way, keepalives do not
	// count) before the end began; IdleAtLeast marks a lower bound (the
	// capture began during the silence). HasIdle is false when unknown.
	IdleBeforeEnd time.Duration
	IdleAtLeast   bool
	HasIdle       bool
	// AliveUntil is the last packet the stalled sender's peer got through
	// (dead path, idle drop): the path worked until then.
	AliveUntil time.Time
	// Idle drop: the longest silence the path survived and the silence it
	// did not; its idle timeout lies between them.
	SurvivedIdle, FatalIdle time.Duration
	// DetectedAfter is how long the keepalive mechanism took from the last
	// answered packet to the prober's close (keepalive and TCP keepalive
	// timeouts).
	DetectedAfter time.Duration
	// Evidence lists the packets the diagnosis rests on, in time order.
	Evidence []Evidence
}

// Evidence is one observation behind a diagnosis.
type Evidence struct {
	At   time.Time
	What string
}

// Cause is why a connection ended.
type Cause uint8

// The causes of a connection's end.
const (
	CauseUnknown             Cause = iota
	CauseOpen                      // the capture ended first
	CauseUserExit                  // an ordinary end: the user exited, input ended, the command finished
	CauseIdleLogout                // the server ended the session after a silence of the client
	CauseIdleDrop                  // a middlebox forgot the idle connection
	CauseKeepaliveTimeout          // SSH keepalives TCP-acknowledged but not answered; the prober gave up
	CauseDeadPath                  // a segment unacknowledged and retransmitted: the path died
	CauseTCPKeepaliveTimeout       // TCP keepalives unanswered, then the prober's RST
)

func (c Cause) String() string {
	switch c {
	case CauseOpen:
		return "open"
	case CauseUserExit:
		return "user-exit"
	case CauseIdleLogout:
		return "idle-logout"
	case CauseIdleDrop:
		return "idle-drop"
	case CauseKeepaliveTimeout:
		return "keepalive-timeout"
	case CauseDeadPath:
		return "dead-path"
	case CauseTCPKeepaliveTimeout:
		return "tcp-keepalive-timeout"
	}
	return "unknown"
}

// Middlebox is a common stateful device with a default idle timeout
// (FACTS.md §5).
type Middlebox struct {
	ID      string // stable identifier for the JSON output
	Name    string
	Timeout time.Duration
}

// Middleboxes are the idle timeouts a session is compared with, shortest first.
var Middleboxes = []Middlebox{
	{"azure", "Azure LB/NAT", 240 * time.Second},
	{"aws", "AWS NAT/NLB", 350 * time.Second},
	{"gcp-vpc", "GCP VPC", 600 * time.Second},
	{"ipvs", "IPVS", 900 * time.Second},
	{"gcp-cloud-nat", "GCP Cloud NAT", 1200 * time.Second},
	{"firewall", "firewalls", 3600 * time.Second},
}

// Risk compares a connection's silences and keepalives with common
// middlebox idle timeouts.
type Risk struct {
	LongestIdle time.Duration
	// EffectiveKeepalive is the shortest keepalive period seen on the wire
	// (0: no keepalive seen); EffectiveBy names the mechanism.
	EffectiveKeepalive time.Duration
	EffectiveBy        string
	// DroppedBy are the middleboxes whose idle timeout the session would
	// not survive: a silence that long was seen, or no keepalive seen comes
	// often enough to prevent one.
	DroppedBy []Middlebox
	// NoKeepalive: no keepalive of any kind was seen; at best the default
	// TCPKeepAlive (first probe after 2 h, if enabled) protects the session.
	NoKeepalive bool
}

// Recommendation is a change of settings for the environment observed.
type Recommendation struct {
	File  string   // "~/.ssh/config" or "sshd_config"; "" when no setting helps
	Lines []string // the lines to add
	// DeadPeerAfter is the resulting dead-peer detection time (0: n/a).
	DeadPeerAfter time.Duration
	Why           string
}

// Mark is what happened in one bucket of an Activity.
type Mark uint16

// Marks. Data, Probe and TCPProbe are shifted by the sender's Role.
const (
	MarkData       Mark = 1 << iota // non-keepalive data from the client (<<1: server)
	_                               // data from the server
	MarkProbe                       // SSH keepalive probe from the client
	_                               // from the server
	MarkTCPProbe                    // TCP keepalive from the client
	_                               // from the server
	MarkUnanswered                  // a keepalive probe without answer
	MarkRetrans                     // a TCP retransmission
	MarkEnd                         // the first FIN or RST
)

// activityBuckets is the number of buckets of an Activity.
const activityBuckets = 64

// Activity is a connection's timeline in buckets of equal width: the width
// starts at 100 ms and doubles whenever the connection outgrows the buckets,
// so its size is fixed.
type Activity struct {
	Start time.Time
	Width time.Duration
	Marks [activityBuckets]Mark
}

func (a *Activity) add(at time.Time, m Mark) {
	if a.Width == 0 {
		a.Start, a.Width = at, 100*time.Millisecond
	}
	if at.Before(a.Start) {
		at = a.Start
	}
	i := int(at.Sub(a.Start) / a.Width)
	for i >= activityBuckets {
		for j := 0; j < activityBuckets/2; j++ {
			a.Marks[j] = a.Marks[2*j] | a.Marks[2*j+1]
		}
		clear(a.Marks[activityBuckets/2:])
		a.Width *= 2
		i = int(at.Sub(a.Start) / a.Width)
	}
	a.Marks[i] |= m
}

// Buckets is the number of buckets in use up to the connection's last packet.
func (a Activity) Buckets(last time.Time) int {
	if a.Width == 0 {
		return 0
	}
	return min(activityBuckets, int(last.Sub(a.Start)/a.Width)+1)
}

// mark adds the connection's end.
func (a *Activity) mark(c *Conn) {
	if a.Width == 0 {
		a.add(c.FirstSeen, 0)
	}
	if c.End.How != "open" {
		a.add(c.End.At, MarkEnd)
	}
}

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
	// Notes explain the inference in words (version quirks, ambiguity).
	Notes []string
}

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

// Event is one packet of the timeline, labelled.
type Event struct {
	At         time.Time
	From       Role
	Seq, Ack   uint32
	Flags      TCPFlags
	Window     uint16
	PayloadLen int
	Label      Label
}

// Label classifies a packet of the timeline.
type Label uint8

// Labels.
const (
	LabelNone Label = iota
	LabelSSHProbe
	LabelSSHProbeUnanswered
	LabelSSHReply
	LabelTCPProbe
	LabelTCPProbeUnanswered
	LabelTCPProbeAck
	LabelWindowProbe
	LabelRetransmission
)

func (l Label) String() string {
	switch l {
	case LabelNone:
		return ""
	case LabelSSHProbe:
		return "SSH keepalive probe"
	case LabelSSHProbeUnanswered:
		return "SSH keepalive probe (unanswered)"
	case LabelSSHReply:
		return "SSH keepalive reply"
	case LabelTCPProbe:
		return "TCP keepalive"
	case LabelTCPProbeUnanswered:
		return "TCP keepalive (unanswered)"
	case LabelTCPProbeAck:
		return "TCP keepalive ACK"
	case LabelWindowProbe:
		return "zero-window probe"
	case LabelRetransmission:
		return "retransmission"
	}
	return "unknown"
}
