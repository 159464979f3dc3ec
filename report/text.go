package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// seconds renders a duration in seconds with one decimal ("20.0"), or more
// when the value is small.
func seconds(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s >= 10:
		return fmt.Sprintf("%.1f", s)
	case s >= 0.995:
		return fmt.Sprintf("%.2f", s)
	}
	return fmt.Sprintf("%.3f", s)
}

func endpoint(c analyze.Conn, r analyze.Role) string {
	if r == analyze.Client {
		return c.Client.String()
	}
	return c.Server.String()
}

// Sentences explains a connection in plain words, one sentence per
// keepalive mechanism (or one saying there is none) and one for its end.
func Sentences(c analyze.Conn) []string {
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
	out = append(out, c.Inferred.Notes...)
	return out
}

func answeredPhrase(k analyze.Keepalives) string {
	switch {
	case k.Answered == k.Probes:
		return "all answered"
	case k.Answered == 0:
		return "none answered"
	}
	return fmt.Sprintf("%d of %d answered", k.Answered, k.Probes)
}

func sshSentence(c analyze.Conn, k analyze.Keepalives) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s sends SSH keepalives", k.Sender, endpoint(c, k.Sender))
	b.WriteString(cadence(k))
	fmt.Fprintf(&b, " (%d-byte probe", k.ProbeBytes)
	if k.ReplyBytes > 0 {
		fmt.Fprintf(&b, ", %d-byte reply", k.ReplyBytes)
	}
	fmt.Fprintf(&b, ", %s)", answeredPhrase(k))
	var set []string
	inf := c.Inferred
	if k.Sender == analyze.Client && inf.ServerAliveInterval != nil {
		set = append(set, fmt.Sprintf("ServerAliveInterval %d", *inf.ServerAliveInterval))
		if inf.ServerAliveCountMax != nil {
			set = append(set, fmt.Sprintf("ServerAliveCountMax %d", *inf.ServerAliveCountMax))
		}
	}
	if k.Sender == analyze.Server && inf.ClientAliveInterval != nil {
		set = append(set, fmt.Sprintf("ClientAliveInterval %d", *inf.ClientAliveInterval))
		if inf.ClientAliveCountMax != nil {
			set = append(set, fmt.Sprintf("ClientAliveCountMax %d", *inf.ClientAliveCountMax))
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

func endSentence(c analyze.Conn) string {
	switch c.End.How {
	case "fin":
		return fmt.Sprintf("the %s closed the connection (FIN) at %s", c.End.By, clock(c.End.At))
	case "rst":
		return fmt.Sprintf("the %s reset the connection (RST) at %s", c.End.By, clock(c.End.At))
	}
	return fmt.Sprintf("still open when the capture ended (last packet %s)", clock(c.LastSeen))
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000000") }

// cadence says how often probes came.
func cadence(k analyze.Keepalives) string {
	if k.Interval.N == 0 {
		return " (one probe)"
	}
	return fmt.Sprintf(" every %s s", seconds(k.Interval.Median))
}
