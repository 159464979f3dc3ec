package report

import "github.com/sshalive/sshalive/analyze"

// needsAttention says whether a reader should look at c: the HTML report
// opens its full timeline and lists it first in its group. A connection
// needs attention when
//
//   - it ended badly: a keepalive timeout, a dead path, a TCP keepalive
//     timeout, an idle drop, or a reset with no sign of why (endedBadly);
//   - it is at risk: a common middlebox idle timeout would drop it, because
//     a silence that long was seen or no keepalive comes often enough
//     (Risk.DroppedBy; every connection without keepalives is at risk);
//   - keepalive probes went unanswered (unansweredProbes), whatever the end.
//
// An ordinary exit, an idle logout, a command's end and a connection still
// open at the end of the capture need none, unless at risk or unanswered.
// The text report means the same by "needs attention": one definition for
// both when they are merged.
func needsAttention(c analyze.Conn) bool {
	return endedBadly(c) || len(c.Risk.DroppedBy) > 0 || unansweredProbes(c) > 0
}

// endedBadly: the connection ended for a reason nobody chose.
func endedBadly(c analyze.Conn) bool {
	switch c.End.Cause {
	case analyze.CauseKeepaliveTimeout, analyze.CauseDeadPath, analyze.CauseTCPKeepaliveTimeout, analyze.CauseIdleDrop:
		return true
	case analyze.CauseUnknown:
		return c.End.How == "rst"
	}
	return false
}

// unansweredProbes counts the keepalive probes that expected a reply and
// got none (those still awaiting one when the capture ended aside), or the
// end's unanswered probes if more.
func unansweredProbes(c analyze.Conn) int {
	n := 0
	for _, k := range append(append([]analyze.Keepalives{}, c.SSH...), c.TCP...) {
		if k.Kind == analyze.KindTCP || k.Message.ReplyExpected() {
			n += max(0, k.Probes-k.Pending-k.Answered)
		}
	}
	return max(n, c.End.UnansweredProbes)
}
