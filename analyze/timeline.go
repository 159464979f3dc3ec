package analyze

import "time"

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
	LabelDuplicate
)

// timeline keeps a connection's packets as Events, for --events and the
// HTML report. With a cap, the first half of the cap keeps the connection's
// first events and the second half is a ring of its latest ones.
type timeline struct {
	on  bool
	max int // cap on recorded events (0: none)
	n   int // events seen, recorded or not
	evs []Event
}

// record appends e to the timeline and returns its index (-1 when off).
func (l *timeline) record(e Event) int32 {
	if !l.on {
		return -1
	}
	i := l.n
	l.n++
	if l.max <= 0 || i < l.max {
		l.evs = append(l.evs, e)
		return int32(i)
	}
	head := l.max - l.max/2
	l.evs[head+(i-head)%(l.max/2)] = e
	return int32(i)
}

// at returns the recorded event of index i, or nil (none, or overwritten).
func (l *timeline) at(i int32) *Event {
	n := int(i)
	if i < 0 || n >= l.n {
		return nil
	}
	if l.max <= 0 || n < l.max-l.max/2 || l.n <= l.max {
		return &l.evs[n]
	}
	head, ring := l.max-l.max/2, l.max/2
	if n < l.n-ring {
		return nil
	}
	return &l.evs[head+(n-head)%ring]
}

// label sets the label of event i, if it is still recorded.
func (l *timeline) label(i int32, lb Label) {
	if e := l.at(i); e != nil {
		e.Label = lb
	}
}

// events returns the recorded events in order and how many were left out.
func (l *timeline) events() ([]Event, int) {
	if l.max <= 0 || l.n <= l.max {
		return l.evs, 0
	}
	head, ring := l.max-l.max/2, l.max/2
	out := make([]Event, 0, l.max)
	out = append(out, l.evs[:head]...)
	for n := l.n - ring; n < l.n; n++ {
		out = append(out, l.evs[head+(n-head)%ring])
	}
	return out, l.n - len(out)
}
