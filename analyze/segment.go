package analyze

import (
	"net/netip"
	"strings"
	"time"
)

// TCPFlags holds the TCP header flags of a segment.
type TCPFlags uint8

// TCP flags, in header bit order.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether all of m are set.
func (f TCPFlags) Has(m TCPFlags) bool { return f&m == m }

// String renders the flags as tcpdump does ("S.", "P.", "F.", "R", ".").
func (f TCPFlags) String() string {
	var b strings.Builder
	if f.Has(FlagSYN) {
		b.WriteByte('S')
	}
	if f.Has(FlagFIN) {
		b.WriteByte('F')
	}
	if f.Has(FlagPSH) {
		b.WriteByte('P')
	}
	if f.Has(FlagRST) {
		b.WriteByte('R')
	}
	if f.Has(FlagURG) {
		b.WriteByte('U')
	}
	if f.Has(FlagECE) {
		b.WriteByte('E')
	}
	if f.Has(FlagCWR) {
		b.WriteByte('W')
	}
	if f.Has(FlagACK) {
		b.WriteByte('.')
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// Segment is one decoded TCP segment. It is a value; Payload is borrowed from
// the capture buffer and is valid only during the Tracker.Observe call that
// receives it (the Tracker copies the few handshake bytes it keeps).
type Segment struct {
	At         time.Time
	Src, Dst   netip.AddrPort
	Seq, Ack   uint32
	Flags      TCPFlags
	Window     uint16
	Flow       uint32 // FlowOf its endpoints, set by the decoder (0: Shards works it out)
	PayloadLen int    // true payload length, from the IP header (snaplen does not shrink it)
	Payload    []byte // captured payload bytes; len(Payload) <= PayloadLen
}
