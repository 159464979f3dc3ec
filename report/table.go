package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/sshalive/sshalive/analyze"
)

// Table writes, per connection, a heading, a table of its keepalives and the
// sentences that explain them.
func Table(w io.Writer, s analyze.Summary) error {
	if len(s.Conns) == 0 {
		fmt.Fprintln(w, "no SSH connections found")
	}
	for i, c := range s.Conns {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := connTable(w, c); err != nil {
			return err
		}
	}
	if s.NoData > 0 {
		fmt.Fprintf(w, "\n(%d more connection attempts carried no data: SYN scans, refused or abandoned connects)\n", s.NoData)
	}
	if s.Evicted > 0 {
		fmt.Fprintf(w, "\n(%d connections were summarised early: the table held --max-conns)\n", s.Evicted)
	}
	return nil
}

func connTable(w io.Writer, c analyze.Conn) error {
	fmt.Fprintf(w, "%s → %s  %s – %s  %d packets\n", c.Client, c.Server,
		shown(c.FirstSeen).Format("2006-01-02 15:04:05"), shown(c.LastSeen).Format("15:04:05"), c.Packets)
	if line := handshakeLine(c); line != "" {
		fmt.Fprintf(w, "  %s\n", line)
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("layer", "sender", "probes", "answered", "probe B", "reply B", "interval s (p25–p75)", "min–max s", "reply ms")
	rows := 0
	add := func(layer string, k analyze.Keepalives) {
		interval, span := "—", "—"
		if k.Interval.N > 0 {
			interval = fmt.Sprintf("%s (%s–%s)", seconds(k.Interval.Median), seconds(k.Interval.P25), seconds(k.Interval.P75))
			span = fmt.Sprintf("%s–%s", seconds(k.Interval.Min), seconds(k.Interval.Max))
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
	for _, k := range c.SSH {
		add("SSH", k)
	}
	for _, k := range c.TCP {
		add("TCP", k)
	}
	if rows > 0 {
		if err := t.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "  %s\n", Timeline(c))
	for _, s := range Sentences(c) {
		fmt.Fprintf(w, "  %s\n", s)
	}
	return nil
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
