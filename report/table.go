package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/sshalive/sshalive/analyze"
)

// Table writes the text report with the default options.
func Table(w io.Writer, s analyze.Summary) error { return Text(w, s, Options{}) }

// Text writes the text report: the zone the times are in, then per
// connection a heading, a table of its keepalives and the sentences that
// explain them; with more than overviewAbove connections an overview first
// and the detail of those that need attention (of all with o.All).
func Text(w io.Writer, s analyze.Summary, o Options) error {
	if len(s.Conns) == 0 {
		fmt.Fprintln(w, "no SSH connections found")
	} else {
		fmt.Fprintln(w, zoneLine(s.Conns[0].FirstSeen))
	}
	if len(s.Conns) > overviewAbove {
		if err := overview(w, s, o); err != nil {
			return err
		}
	}
	for i, c := range s.Conns {
		if len(s.Conns) > overviewAbove {
			break
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := connDetail(w, c, false); err != nil {
			return err
		}
	}
	if s.NoData > 0 {
		fmt.Fprintf(w, "\n(%s carried no data: SYN scans, refused or abandoned connects)\n", plural(s.NoData, "more connection attempt"))
	}
	if s.Evicted > 0 {
		n := plural(s.Evicted, "connection") + " were"
		if s.Evicted == 1 {
			n = "1 connection was"
		}
		fmt.Fprintf(w, "\n(%s summarised early: the table held --max-conns)\n", n)
	}
	return nil
}

// zoneLine says the zone the times are shown in, as of at: "times in UTC",
// "times in CET (UTC+01:00)".
func zoneLine(at time.Time) string {
	name, off := shown(at).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	utc := fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off/60%60)
	switch {
	case off == 0 && (name == "UTC" || name == "GMT" || name == ""):
		return "times in UTC"
	case name == "" || strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-"):
		return "times in " + utc
	}
	return fmt.Sprintf("times in %s (%s)", name, utc)
}

// connDetail writes one connection's detail. Under the overview (brief)
// the timeline's legend is left out (it is printed once) and a quiet
// session gets no risk line nor advice of its own.
func connDetail(w io.Writer, c analyze.Conn, brief bool) error {
	fmt.Fprintf(w, "%s → %s  %s – %s  %s\n", c.Client, c.Server,
		shown(c.FirstSeen).Format("2006-01-02 15:04:05"), shown(c.LastSeen).Format("15:04:05"), plural(c.Packets, "packet"))
	if c.NotSSH {
		return notSSHDetail(w, c)
	}
	if line := handshakeLine(c); line != "" {
		fmt.Fprintf(w, "  %s\n", line)
	}
	if err := keepaliveTable(w, c); err != nil {
		return err
	}
	tl := Timeline(c)
	if brief {
		tl = timelineBar(c)
	}
	fmt.Fprintf(w, "  %s\n", tl)
	for _, s := range sentences(c, brief && quiet(c)) {
		fmt.Fprintf(w, "  %s\n", s)
	}
	return nil
}

// notSSHDetail is what is said of a connection that is not SSH: its
// timeline, its TCP keepalives and how it closed; no SSH verdict.
func notSSHDetail(w io.Writer, c analyze.Conn) error {
	fmt.Fprintf(w, "  %s\n", notSSHText(c))
	if err := keepaliveTable(w, c); err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s\n", timelineBar(c))
	for _, k := range c.TCP {
		fmt.Fprintf(w, "  %s\n", tcpSentence(c, k))
	}
	if c.End.How == "open" {
		fmt.Fprintf(w, "  still open when the capture ended (last packet %s)\n", clock(c.LastSeen))
	} else {
		fmt.Fprintf(w, "  %s\n", closed(c))
	}
	return nil
}

// notSSHText says why a connection gets no SSH verdicts.
func notSSHText(c analyze.Conn) string {
	return fmt.Sprintf("port %d: not SSH (the client's first line is no SSH banner, and the server sent none): no SSH verdicts", c.Server.Port())
}

// keepaliveTable is the table of c's keepalives (nothing when it has none).
func keepaliveTable(w io.Writer, c analyze.Conn) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("layer", "sender", "probes", "answered", "probe B", "reply B", "interval s (p25–p75)", "min–max s", "reply ms")
	rows := 0
	add := func(layer string, k analyze.Keepalives) {
		interval, span := "—", "—"
		if k.Interval.N > 0 {
			v := secondsAlike(k.Interval.Median, k.Interval.P25, k.Interval.P75)
			interval = fmt.Sprintf("%s (%s–%s)", v[0], v[1], v[2])
			v = secondsAlike(k.Interval.Max, k.Interval.Min)
			span = fmt.Sprintf("%s–%s", v[1], v[0])
		}
		reply, latency := "—", "—"
		if k.ReplyBytes > 0 {
			reply = strconv.Itoa(k.ReplyBytes)
		}
		if k.ReplyLatency.N > 0 {
			latency = fmt.Sprintf("%.1f", float64(k.ReplyLatency.Median.Microseconds())/1000)
		}
		if layer == "TCP" && k.Answered > 0 {
			reply = "ACK"
		}
		t.Append(layer, k.Sender.String(), strconv.Itoa(k.Probes), answeredCell(k),
			strconv.Itoa(k.ProbeBytes), reply, interval, span, latency)
		rows++
	}
	if !c.NotSSH {
		for _, k := range c.SSH {
			add("SSH", k)
		}
	}
	for _, k := range c.TCP {
		add("TCP", k)
	}
	if rows == 0 {
		return nil
	}
	return t.Render()
}

func handshakeLine(c analyze.Conn) string {
	var parts []string
	if c.Banners[analyze.Client] != "" || c.Banners[analyze.Server] != "" {
		parts = append(parts, fmt.Sprintf("client \"%s\", server \"%s\"", orDash(clean(c.Banners[analyze.Client])), orDash(clean(c.Banners[analyze.Server]))))
	}
	if c.CipherKnown[0] && c.CipherKnown[1] || c.Compressed {
		parts = append(parts, "cipher "+cipherName(c.Ciphers[0]))
		if c.Ciphers[1] != c.Ciphers[0] {
			parts[len(parts)-1] += " / " + cipherName(c.Ciphers[1])
		}
		if c.Compressed {
			parts = append(parts, "compression on: probe sizes learned from the recurring probes")
		}
	} else if !c.Handshake {
		parts = append(parts, "no handshake in the capture: probes recognised by size pattern and timing")
	} else {
		parts = append(parts, "handshake not readable (cut by the snaplen, or not OpenSSH's packet format): probes recognised by size pattern and timing")
	}
	return strings.Join(parts, "; ")
}

// cipherName is the negotiated cipher (+ MAC, + compression), cleaned for
// the terminal: the compression name is whatever the peers offered.
func cipherName(s analyze.CipherSpec) string {
	n := s.Cipher
	if s.MAC != "" {
		n += " + " + s.MAC
	}
	if s.Compressed() {
		n += " + " + s.Compression
	}
	return clean(n)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
