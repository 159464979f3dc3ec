package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/sshalive/sshalive/analyze"
)

// Events writes the labelled packet timeline of all connections in time
// order, one tcpdump-style line per packet; keepalive probes, replies and
// retransmissions carry a label after "<-".
func Events(w io.Writer, s analyze.Summary) error {
	type line struct {
		c *analyze.Conn
		e *analyze.Event
	}
	var lines []line
	for i := range s.Conns {
		c := &s.Conns[i]
		for j := range c.Events {
			lines = append(lines, line{c, &c.Events[j]})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.e.At.UnixNano(), b.e.At.UnixNano()) })
	for _, l := range lines {
		e := l.e
		src, dst := l.c.Client, l.c.Server
		if e.From == analyze.Server {
			src, dst = dst, src
		}
		seq := fmt.Sprint(e.Seq)
		if e.PayloadLen > 0 {
			seq = fmt.Sprintf("%d:%d", e.Seq, e.Seq+uint32(e.PayloadLen))
		}
		ack := ""
		if e.Flags.Has(analyze.FlagACK) {
			ack = fmt.Sprintf(", ack %d", e.Ack)
		}
		label := ""
		if e.Label != analyze.LabelNone {
			label = fmt.Sprintf("  <- %s %s", e.From, labelText(e.Label))
		}
		if _, err := fmt.Fprintf(w, "%s %s > %s: Flags [%s], seq %s%s, win %d, length %d%s\n",
			shown(e.At).Format("15:04:05.000000"), src, dst, e.Flags, seq, ack, e.Window, e.PayloadLen, label); err != nil {
			return err
		}
	}
	return nil
}
