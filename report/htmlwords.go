package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// The words of the HTML report's summary and index (the per-connection
// sentences are text.go's and words.go's).

// causeOrder lists the end causes as the index groups them: the ends
// nobody chose first (the worst first) and an unexplained one, then the
// server's own ends, then connections still open, then ordinary exits.
var causeOrder = [...]analyze.Cause{
	analyze.CauseDeadPath, analyze.CauseKeepaliveTimeout, analyze.CauseTCPKeepaliveTimeout, analyze.CauseIdleDrop,
	analyze.CauseUnknown, analyze.CauseIdleLogout, analyze.CauseServerEnded, analyze.CauseCommandEnded,
	analyze.CauseOpen, analyze.CauseUserExit,
}

// causeRank is c's place in causeOrder.
func causeRank(c analyze.Cause) int {
	for i, o := range causeOrder {
		if o == c {
			return i
		}
	}
	return len(causeOrder)
}

// causeTitle says in a few words what an end cause means.
func causeTitle(c analyze.Cause) string {
	switch c {
	case analyze.CauseDeadPath:
		return "dead path: a segment was retransmitted and never acknowledged"
	case analyze.CauseKeepaliveTimeout:
		return "keepalive timeout: probes acknowledged by TCP but never answered, the prober gave up"
	case analyze.CauseTCPKeepaliveTimeout:
		return "TCP keepalive timeout: TCP keepalives unanswered, then a reset"
	case analyze.CauseIdleDrop:
		return "idle drop: a middlebox forgot the idle connection"
	case analyze.CauseUnknown:
		return "unknown: ended without a sign of why (a reset, or a close the wire cannot explain)"
	case analyze.CauseIdleLogout:
		return "idle logout: the server ended the session after the client's silence"
	case analyze.CauseServerEnded:
		return "server ended: the server closed after the client's silence (a command's end or an idle logout)"
	case analyze.CauseCommandEnded:
		return "command ended: the remote command finished"
	case analyze.CauseOpen:
		return "open: the capture ended first"
	case analyze.CauseUserExit:
		return "ordinary exit: the user exited, input ended, or the command finished"
	}
	return c.String()
}

// attentionWhy words why c needs attention (needsAttention), shortest
// first; nil when it needs none.
func attentionWhy(c analyze.Conn) []string {
	var why []string
	if endedBadly(c) {
		if c.End.Cause == analyze.CauseUnknown {
			why = append(why, "reset without a sign of why")
		} else {
			why = append(why, c.End.Cause.String())
		}
	}
	if n := unansweredProbes(c); n == 1 {
		why = append(why, "1 probe unanswered")
	} else if n > 1 {
		why = append(why, fmt.Sprintf("%d probes unanswered", n))
	}
	if r := c.Risk; atRisk(c) && !c.NotSSH && len(r.DroppedBy) > 0 {
		switch {
		case r.NoKeepalive:
			why = append(why, "at risk: no keepalives")
		default:
			why = append(why, fmt.Sprintf("at risk: %s %d s", r.DroppedBy[0].Name, int(r.DroppedBy[0].Timeout.Seconds())))
		}
	}
	return why
}

// keepaliveCell says who sends keepalives and how often ("SSH client 60 s,
// TCP server 7200 s"), or "none".
func keepaliveCell(c analyze.Conn) string {
	var parts []string
	for _, k := range c.SSH {
		parts = append(parts, "SSH "+k.Sender.String()+" "+everyText(k))
	}
	for _, k := range c.TCP {
		parts = append(parts, "TCP "+k.Sender.String()+" "+everyText(k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func everyText(k analyze.Keepalives) string {
	if k.Interval.N == 0 {
		return "(1 probe)"
	}
	return seconds(k.Every()) + " s"
}

// softwareCell is "OpenSSH 9.2p1 → Dropbear 2022.83", "?" for a banner not
// captured.
func softwareCell(c analyze.Conn) string {
	names := [2]string{}
	for r := analyze.Client; r <= analyze.Server; r++ {
		if names[r] = implText(c.Implementations[r]); names[r] == "" {
			names[r] = "?"
		}
	}
	return names[analyze.Client] + " → " + names[analyze.Server]
}

// endCell is how and when the connection ended: "RST server 08:12:03".
func endCell(c analyze.Conn, stamp func(time.Time) string) string {
	if c.End.How == "open" {
		return "still open"
	}
	return fmt.Sprintf("%s %s %s", strings.ToUpper(c.End.How), c.End.By, stamp(c.End.At))
}

// lastedText is a duration for the index: "42 s", "4 min 05 s", "2 h 03 min".
func lastedText(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %02d min", s/3600, s%3600/60)
}

// zoneText names the zone times are shown in: "UTC", or "CET (UTC+01:00)".
func zoneText(at time.Time) string {
	t := shown(at)
	name, off := t.Zone()
	if off == 0 && (name == "UTC" || name == "GMT") {
		return name
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	z := fmt.Sprintf("%s (UTC%c%02d:%02d)", name, sign, off/3600, off%3600/60)
	if loc := t.Location().String(); loc != "Local" && loc != name {
		z = loc + " " + z
	}
	return z
}
