package analyze

import (
	"net/netip"
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
	Client, Server  netip.AddrPort
	FirstSeen       time.Time
	LastSeen        time.Time
	Packets         int
	Handshake       bool // the TCP SYN was captured
	Banners         [2]string
	Implementations [2]Implementation // from the banners; zero when not captured
	Ciphers         [2]CipherSpec     // negotiated per direction (index: sender)
	CipherKnown     [2]bool
	// Compressed: the ciphers are known but zlib is on in a direction, so
	// message sizes are learned from the wire (CipherKnown is then false).
	Compressed  bool
	SSH         []Keepalives // SSH-layer keepalives, one entry per sender and probe size
	TCP         []Keepalives // TCP keepalives, one entry per sender
	End         End
	LongestIdle time.Duration // longest gap with no packet in either direction
	// RTT is the round trip as the capture point saw it: the handshake
	// (SYN to ACK), else the fastest ACK each way; 0 when unknown.
	RTT time.Duration
	// Unclassified counts probe-sized messages and TCP keepalives past the
	// maxKept a connection keeps per direction: counted, not classified.
	Unclassified int
	Inferred     Inferred
	Risk         Risk
	// Recommendations are the settings to change, if any (see recommend).
	Recommendations []Recommendation
	// Activity is the connection's timeline in at most 64 time buckets:
	// always kept, whatever the connection's length.
	Activity Activity
	Events   []Event // the packet timeline, when Config.Events is set
	// EventsDropped counts packets left out of Events by Config.MaxEvents
	// (the middle of the connection: its first and last packets are kept).
	EventsDropped int
	// NotSSH: the capture holds the connection's start and the client's
	// first line was not an SSH banner, nor did the server send one: not
	// SSH, so no SSH keepalives, settings or advice are derived from it.
	NotSSH   bool
	Evicted  bool // summarised before its end because of the table limits
	Snapshot bool // summarised mid-capture for an interim report (Tracker.Snapshot)
}

// Keepalives describes the keepalive probes one end sent.
type Keepalives struct {
	Sender      Role
	Kind        ProbeKind
	Message     Message // the SSH message (SSH probes; MsgUnknown when sizes cannot tell)
	Probes      int
	Answered    int
	Pending     int // sent so shortly before the capture ended that no reply was due yet
	ProbeBytes  int
	ReplyBytes  int // 0 when none was answered
	First, Last time.Time
	Interval    Stats // spacing between consecutive probes
	// Period and Retry are set for TCP keepalives, whose unanswered probes
	// are retried at tcp_keepalive_intvl: Period is the median spacing after
	// an answered probe (keepalive time plus round trip; 0 when none), Retry
	// after an unanswered one. Every gives the period for any kind.
	Period, Retry time.Duration
	IdleBefore    Stats // silence from the peer before each probe: the timer's view
	ReplyLatency  Stats
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
	// the negotiated cipher), "pattern" (sizes and timing, no handshake) or
	// "compressed" (compression on: sizes learned from the recurring probes).
	Mode string
}

// Every is the keepalive period: Period, or Interval's median where Period
// was not worked out.
func (k Keepalives) Every() time.Duration {
	if k.Period > 0 {
		return k.Period
	}
	return k.Interval.Median
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

// tally counts the next probe, in time order: answered, or one more in the
// current run of unanswered ones (TrailingUnanswered is that run). A probe
// that has no reply by design is neither; nor is one still pending when the
// capture ended.
func (k *Keepalives) tally(at time.Time, answered, pending bool) {
	if !k.Message.ReplyExpected() {
		return
	}
	if pending && !answered {
		k.Pending++
		return
	}
	if answered {
		k.Answered++
		k.LastAnswered = at
		k.TrailingUnanswered = 0
		return
	}
	if k.TrailingUnanswered == 0 {
		k.FirstUnanswered = at
	}
	k.TrailingUnanswered++
	k.LongestUnanswered = max(k.LongestUnanswered, k.TrailingUnanswered)
}
