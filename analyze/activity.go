package analyze

import "time"

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
	i := int(since(at, a.Start) / a.Width)
	for i >= activityBuckets {
		for j := 0; j < activityBuckets/2; j++ {
			a.Marks[j] = a.Marks[2*j] | a.Marks[2*j+1]
		}
		clear(a.Marks[activityBuckets/2:])
		a.Width *= 2
		i = int(since(at, a.Start) / a.Width)
	}
	a.Marks[i] |= m
}

// Buckets is the number of buckets in use up to the connection's last packet.
func (a Activity) Buckets(last time.Time) int {
	if a.Width == 0 {
		return 0
	}
	return min(activityBuckets, int(since(last, a.Start)/a.Width)+1)
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
