package report

import "github.com/sshalive/sshalive/analyze"

// The one definition of "needs attention", for the text overview and the
// HTML report alike.

// Problem is why a connection needs attention; the order is the order of
// severity the overview lists them in.
type Problem uint8

// Problems, most severe first.
const (
	NoProblem  Problem = iota
	EndedBadly         // idle-drop, dead-path, keepalive-timeout, tcp-keepalive-timeout
	Unanswered         // keepalive probes that went unanswered (the connection did not end of it)
	AtRisk             // a silence or keepalive period ≥ the shortest common middlebox idle timeout
)

// attention says whether and why c needs attention:
//   - it ended badly: a middlebox forgot it (idle-drop), the path died
//     (dead-path), keepalives went unanswered until the prober gave up
//     (keepalive-timeout, tcp-keepalive-timeout) (endedBadly);
//   - keepalive probes that expect a reply went unanswered (those still
//     awaiting one when the capture ended aside: unansweredProbes);
//   - it is at risk: it showed a silence, or keeps itself alive at a period,
//     of at least the shortest common middlebox idle timeout (240 s, Azure):
//     behind such a box it would be dropped. A session without keepalives
//     whose silences stayed shorter is not at risk by what it did; the
//     overview counts those in one line.
//
// A connection that is not SSH never needs attention here.
func attention(c analyze.Conn) Problem {
	if c.NotSSH {
		return NoProblem
	}
	switch {
	case endedBadly(c):
		return EndedBadly
	case unansweredProbes(c) > 0:
		return Unanswered
	case atRisk(c):
		return AtRisk
	}
	return NoProblem
}

// atRisk: c showed a silence, or keeps itself alive at a period, of at
// least the shortest common middlebox idle timeout.
func atRisk(c analyze.Conn) bool {
	shortest := analyze.Middleboxes()[0].Timeout
	return c.Risk.LongestIdle >= shortest || c.Risk.EffectiveKeepalive >= shortest
}

// needsAttention: the HTML report opens c's full timeline and lists it
// first in its group.
func needsAttention(c analyze.Conn) bool { return attention(c) != NoProblem }

// endedBadly: the connection ended for a reason nobody chose.
func endedBadly(c analyze.Conn) bool {
	// A reset with no sign of why is listed, not flagged: many clients
	// (and users closing a window) end with one; on a busy bastion
	// flagging each buried the sessions that did end badly.
	return badCause(c.End.Cause)
}

// badCause: an end nobody chose. The HTML index marks these groups as
// problems; the text overview counts them as "ended badly".
func badCause(c analyze.Cause) bool {
	switch c {
	case analyze.CauseKeepaliveTimeout, analyze.CauseDeadPath, analyze.CauseTCPKeepaliveTimeout, analyze.CauseIdleDrop:
		return true
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
