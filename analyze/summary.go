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
	Events         []Event // the packet timeline, when Config.Events is set
	Evicted        bool    // summarised before its end because of the table limits
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

// End says how a connection ended.
type End struct {
	How string // "fin", "rst" or "open" (the capture ended first)
	By  Role   // meaningful unless How is "open"
	At  time.Time
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
