package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// seconds renders a duration in seconds with one decimal ("20.0"), or more
// when the value is small.
func seconds(d time.Duration) string {
	return secondsAt(d, precision(d))
}

// precision is the number of decimals seconds gives d: 1 from 10 s, 2 from
// 1 s, else 3 (by the rounded value, so 9.998 s is "10.0", not "10.00").
func precision(d time.Duration) int {
	s := d.Seconds()
	switch {
	case s >= 9.995:
		return 1
	case s >= 0.9995:
		return 2
	}
	return 3
}

func secondsAt(d time.Duration, prec int) string {
	return strconv.FormatFloat(d.Seconds(), 'f', prec, 64)
}

// secondsAlike renders durations that are read together ("10.0 (10.0–10.0)")
// at the first one's precision.
func secondsAlike(ds ...time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = secondsAt(d, precision(ds[0]))
	}
	return out
}

func endpoint(c analyze.Conn, r analyze.Role) string {
	ep := c.Server.String()
	if r == analyze.Client {
		ep = c.Client.String()
	}
	if i := implText(c.Implementations[r]); i != "" {
		ep += " (" + i + ")"
	}
	return ep
}

// Sentences explains a connection in plain words, one sentence per
// keepalive mechanism (or one saying there is none) and one for its end.
func Sentences(c analyze.Conn) []string { return sentences(c, false) }

// sentences are c's sentences; quiet leaves out the risk line and the
// advice (a quiet session under the overview, which speaks for all of
// them once).
func sentences(c analyze.Conn, quiet bool) []string {
	if c.NotSSH {
		return []string{notSSHText(c)}
	}
	var out []string
	for _, k := range c.SSH {
		out = append(out, sshSentence(c, k))
	}
	for _, k := range c.TCP {
		out = append(out, tcpSentence(c, k))
	}
	if len(c.SSH) == 0 && len(c.TCP) == 0 {
		s := "no keepalives seen"
		if c.LongestIdle > 0 {
			s += fmt.Sprintf(" (longest silence %s s)", seconds(c.LongestIdle))
		}
		out = append(out, s)
	}
	out = append(out, endSentence(c))
	if c.Unclassified > 0 {
		out = append(out, fmt.Sprintf("note: %d later probe-sized messages or TCP keepalives were counted but not classified: sshalive keeps %d per direction", c.Unclassified, analyze.MaxKept))
	}
	out = append(out, noteTexts(c.Inferred.Notes)...)
	if quiet {
		return out
	}
	out = append(out, riskSentence(c))
	out = append(out, recommendSentences(c)...)
	return out
}

func answeredPhrase(k analyze.Keepalives) string {
	due := k.Probes - k.Pending
	s := fmt.Sprintf("%d of %d answered", k.Answered, due)
	switch {
	case k.Answered == due:
		s = "all answered"
	case k.Answered == 0:
		s = "none answered"
	}
	if k.Pending > 0 {
		s += fmt.Sprintf(", %d still awaiting its reply when the capture ended", k.Pending)
	}
	return s
}

func sshSentence(c analyze.Conn, k analyze.Keepalives) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s sends SSH keepalives", k.Sender, endpoint(c, k.Sender))
	b.WriteString(cadence(k))
	if !k.Message.ReplyExpected() {
		fmt.Fprintf(&b, " (%d-byte %s, no reply by design)", k.ProbeBytes, messageText(k.Message))
	} else {
		fmt.Fprintf(&b, " (%d-byte probe", k.ProbeBytes)
		if k.ReplyBytes > 0 {
			fmt.Fprintf(&b, ", %d-byte reply", k.ReplyBytes)
		}
		fmt.Fprintf(&b, ", %s)", answeredPhrase(k))
	}
	var set []string
	for _, s := range c.Inferred.Settings {
		if s.Side == k.Sender {
			v := fmt.Sprintf("%s %d", s.Name, s.Value)
			if s.Probably {
				v = "probably " + v
			}
			set = append(set, v)
		}
	}
	if len(set) > 0 {
		b.WriteString(" → " + strings.Join(set, ", "))
	}
	return b.String()
}

func tcpSentence(c analyze.Conn, k analyze.Keepalives) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s sends TCP keepalives", k.Sender, endpoint(c, k.Sender))
	b.WriteString(cadence(k))
	fmt.Fprintf(&b, " (%d-byte probe, %s)", k.ProbeBytes, answeredPhrase(k))
	inf := c.Inferred
	var set []string
	if inf.TCPKeepaliveTime != nil {
		set = append(set, fmt.Sprintf("tcp_keepalive_time %d", *inf.TCPKeepaliveTime))
	}
	if inf.TCPKeepaliveIntvl != nil {
		set = append(set, fmt.Sprintf("tcp_keepalive_intvl %d", *inf.TCPKeepaliveIntvl))
	}
	if inf.TCPKeepaliveProbes != nil {
		set = append(set, fmt.Sprintf("tcp_keepalive_probes %d", *inf.TCPKeepaliveProbes))
	}
	if len(set) > 0 {
		b.WriteString(" → " + strings.Join(set, ", "))
	}
	return b.String()
}

// closed says how the connection was closed: "the client closed the
// connection (FIN) at ...".
func closed(c analyze.Conn) string {
	if c.End.How == "rst" {
		return fmt.Sprintf("the %s reset the connection (RST) at %s", c.End.By, clock(c.End.At))
	}
	return fmt.Sprintf("the %s closed the connection (FIN) at %s", c.End.By, clock(c.End.At))
}

func endSentence(c analyze.Conn) string {
	e := c.End
	switch e.Cause {
	case analyze.CauseOpen:
		if c.Snapshot {
			return fmt.Sprintf("open (last packet %s)", clock(c.LastSeen))
		}
		return fmt.Sprintf("still open when the capture ended (last packet %s)", clock(c.LastSeen))
	case analyze.CauseKeepaliveTimeout:
		s := fmt.Sprintf("end: keepalive timeout: the %s gave up after %s (acknowledged by TCP but never answered: the %s's SSH process hung, its kernel did not)",
			e.Actor, plural(e.UnansweredProbes, "unanswered probe"), e.Actor.Peer())
		if e.DetectedAfter > 0 {
			s += fmt.Sprintf(", %s s after the last answered probe", seconds(e.DetectedAfter))
		}
		s += "; " + closed(c)
		if n := countMaxName(e.Actor); n != "" {
			s += fmt.Sprintf(" → %s %d", n, e.UnansweredProbes)
		}
		return s
	case analyze.CauseDeadPath:
		what := "data"
		if e.UnansweredProbes > 0 {
			what = "keepalive probe"
		}
		s := fmt.Sprintf("end: dead path: the %s's %s was retransmitted and never acknowledged; nothing arrived from the %s after %s (the path is dead since then)",
			e.Actor, what, e.Actor.Peer(), clock(e.AliveUntil))
		if e.UnansweredProbes > 0 {
			s += fmt.Sprintf("; later probes and the FIN queue behind it, so %s cannot be read off the wire", countMaxName(e.Actor))
		}
		if e.How != "open" {
			s += "; " + closed(c)
		} else {
			s += "; the capture ended with the connection still open"
		}
		return s
	case analyze.CauseTCPKeepaliveTimeout:
		s := fmt.Sprintf("end: TCP keepalive timeout: %s from the %s went unanswered and its kernel reset the connection (RST) at %s",
			plural(e.UnansweredProbes, "TCP keepalive"), e.Actor, clock(e.At))
		if e.DetectedAfter > 0 {
			s += fmt.Sprintf(", %s s after the last packet from the %s", seconds(e.DetectedAfter), e.Actor.Peer())
		}
		return s
	case analyze.CauseIdleDrop:
		s := fmt.Sprintf("end: idle drop: the path dropped idle state after more than %s s and less than %s s: it carried a %s s silence, but the %s's first segment after %s s of silence was never acknowledged",
			seconds(e.SurvivedIdle), seconds(e.FatalIdle), seconds(e.SurvivedIdle), e.Actor, seconds(e.FatalIdle))
		if e.How == "rst" {
			s += " and answered by an RST"
		}
		for _, m := range analyze.Middleboxes() {
			if m.Timeout > e.SurvivedIdle && m.Timeout < e.FatalIdle {
				s += fmt.Sprintf("; %s (%d s) fits", m.Name, int(m.Timeout.Seconds()))
			}
		}
		if e.How == "open" {
			s += "; the capture ended with the connection still open"
		}
		return s
	case analyze.CauseIdleLogout, analyze.CauseServerEnded, analyze.CauseCommandEnded:
		return serverEndSentence(c)
	case analyze.CauseUserExit:
		return fmt.Sprintf("end: ordinary exit: the %s sent the last data (exit, end of input, or the command finished); %s", e.Actor, closed(c))
	}
	return fmt.Sprintf("end: %s; no sign of why", closed(c))
}

// serverEndSentence words the endings where the server closed the session
// after the client's silence.
func serverEndSentence(c analyze.Conn) string {
	e := c.End
	idle := seconds(e.IdleBeforeEnd) + " s"
	if e.IdleAtLeast {
		idle = "at least " + idle
	}
	switch {
	case e.Cause == analyze.CauseCommandEnded:
		return fmt.Sprintf("end: the remote command ended: the server closed the session after %s without input from the client, without a last message (exit status and close only, or after output it kept sending): no idle timeout; %s",
			idle, closed(c))
	case e.Cause == analyze.CauseServerEnded:
		return fmt.Sprintf("end: the server ended the session after %s without input from the client: the remote command ended, or an idle logout (TMOUT) — message sizes are unknown here (compression, or no handshake in the capture), so the wire cannot tell which; %s",
			idle, closed(c))
	case e.Logout == analyze.LogoutBare:
		return fmt.Sprintf("end: idle timeout: the server closed the connection after %s without data from the client, with no message (its own idle timer: Dropbear's -I, sshd's UnusedConnectionTimeout or ChannelTimeout; keepalives do not count for it); %s",
			idle, closed(c))
	}
	return fmt.Sprintf("end: idle logout: the server ended the session after %s without input from the client, with a last message first (a shell's TMOUT — or a command whose last act was to print: the wire cannot tell which; keepalives prevent neither); %s",
		idle, closed(c))
}

func countMaxName(r analyze.Role) string {
	if r == analyze.Client {
		return "ServerAliveCountMax"
	}
	return "ClientAliveCountMax"
}

func boxList(ms []analyze.Middlebox) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s %d s", m.Name, int(m.Timeout.Seconds())))
	}
	return strings.Join(parts, ", ")
}

func riskSentence(c analyze.Conn) string {
	r := c.Risk
	kept := "no keepalives (at best TCPKeepAlive protects it: first probe after 2 h, if enabled)"
	if !r.NoKeepalive {
		kept = fmt.Sprintf("keepalives every %s s (%s)", seconds(r.EffectiveKeepalive), mechanismText(r.EffectiveBy))
	}
	if len(r.DroppedBy) == 0 {
		shortest := analyze.Middleboxes()[0]
		return fmt.Sprintf("risk: %s and a longest silence of %s s stay under every common middlebox idle timeout (the shortest: %s %d s)",
			kept, seconds(r.LongestIdle), shortest.Name, int(shortest.Timeout.Seconds()))
	}
	s := fmt.Sprintf("risk: %s, longest silence %s s: %s", kept, seconds(r.LongestIdle), droppedText(r.DroppedBy))
	if survived := survivedIdle(c); survived >= r.DroppedBy[0].Timeout {
		s += fmt.Sprintf("; this path carried a %s s silence, so none of those up to %s s is on it", seconds(survived), seconds(survived))
	}
	return s
}

// droppedText says which middleboxes would drop the session and after how
// long idle: "an idle period of ≥ 240 s would be dropped by Azure LB/NAT
// (240 s), AWS NAT/NLB (350 s)".
func droppedText(ms []analyze.Middlebox) string {
	secs := func(m analyze.Middlebox) int { return int(m.Timeout.Seconds()) }
	all := analyze.Middleboxes()
	if len(ms) == len(all) {
		return fmt.Sprintf("an idle period of ≥ %d s would be dropped by %s, one of ≥ %d s by every common middlebox",
			secs(ms[0]), ms[0].Name, secs(ms[len(ms)-1]))
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s (%d s)", m.Name, secs(m)))
	}
	return fmt.Sprintf("an idle period of ≥ %d s would be dropped by %s", secs(ms[0]), strings.Join(parts, ", "))
}

// survivedIdle is the longest silence the path is known to have carried
// (0: none known): the longest silence of a connection that ended
// normally or is open, the silence an idle drop survived.
func survivedIdle(c analyze.Conn) time.Duration {
	switch c.End.Cause {
	case analyze.CauseOpen, analyze.CauseUserExit, analyze.CauseIdleLogout, analyze.CauseCommandEnded, analyze.CauseServerEnded:
		return c.Risk.LongestIdle
	case analyze.CauseIdleDrop:
		return c.End.SurvivedIdle
	}
	return 0
}

func recommendSentences(c analyze.Conn) []string {
	var out []string
	var alts []string
	for _, r := range c.Recommendations {
		if r.File == "" {
			out = append(out, "note: "+adviceText(r))
			continue
		}
		s := fmt.Sprintf("%s: %s", r.File, strings.Join(settingLines(r), ", "))
		if r.DeadPeerAfter > 0 {
			s += fmt.Sprintf(" (a dead peer is detected after ~%d s)", int(r.DeadPeerAfter.Seconds()))
		}
		if len(alts) == 0 {
			s = "recommended: " + s + ": " + adviceText(r)
		} else {
			s = "or " + s + ": " + adviceText(r)
		}
		alts = append(alts, s)
	}
	return append(out, alts...)
}

// legend explains the timeline's characters.
const legend = "# data, k SSH keepalive, t TCP keepalive, ! unanswered, x retransmission, | end"

// Timeline is the connection's compact timeline: one character per bucket
// of its Activity, and the legend.
func Timeline(c analyze.Conn) string {
	return strings.TrimSuffix(timelineBar(c), ")") + ": " + legend + ")"
}

// timelineBar is the timeline without the legend.
func timelineBar(c analyze.Conn) string {
	a := c.Activity
	n := a.Buckets(c.LastSeen)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(markChar(a.Marks[i]))
	}
	return fmt.Sprintf("%s ▕%s▏ %s  (1 char = %s s)",
		shown(c.FirstSeen).Format("15:04:05"), b.String(), shown(c.LastSeen).Format("15:04:05"), seconds(a.Width))
}

func markChar(m analyze.Mark) string {
	switch {
	case m&analyze.MarkEnd != 0:
		return "|"
	case m&analyze.MarkUnanswered != 0:
		return "!"
	case m&analyze.MarkRetrans != 0:
		return "x"
	case m&(analyze.MarkProbe|analyze.MarkProbe<<1) != 0:
		return "k"
	case m&(analyze.MarkTCPProbe|analyze.MarkTCPProbe<<1) != 0:
		return "t"
	case m&(analyze.MarkData|analyze.MarkData<<1) != 0:
		return "#"
	}
	return "·"
}

func clock(t time.Time) string { return shown(t).Format("15:04:05.000000") }

// cadence says how often probes came.
func cadence(k analyze.Keepalives) string {
	if k.Interval.N == 0 {
		return " (one probe)"
	}
	if k.Retry > 0 && k.Answered > 0 {
		return fmt.Sprintf(" every %s s, unanswered ones retried every %s s", seconds(k.Every()), seconds(k.Retry))
	}
	return fmt.Sprintf(" every %s s", seconds(k.Every()))
}
