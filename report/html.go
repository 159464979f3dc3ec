package report

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

//go:embed html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"f1": f1}).Parse(htmlSource))

// htmlReport is the page: a header, a summary, an index grouped by end
// cause, then one section per connection in the index's order.
type htmlReport struct {
	Files     []string
	Span      string // first to last packet of the connections
	Zone      string // the zone every time is shown in
	Conns     int
	Attention int
	Summary   htmlSummary
	Groups    []htmlGroup
	Sections  []htmlConn
	RiskAxis  []htmlLine // the risk scale's axis, drawn once and used by every connection
}

// htmlSummary is the page's summary: counts with what they count.
type htmlSummary struct {
	Alive    []htmlCount // who keeps the connections alive
	Ended    []htmlCount // by end cause, problems first
	Clients  []htmlCount // by client software
	Servers  []htmlCount // by server software
	Problems int         // connections whose end is a failure
	Open     int         // connections open when the capture ended
}

type htmlCount struct {
	Label, Class, Href string
	N                  int
}

// htmlGroup is the index's rows of one end cause.
type htmlGroup struct {
	ID, Cause, Title string
	Problem          bool
	Rows             []htmlRow
	Attention        int
}

// htmlRow is a connection in one line of the index.
type htmlRow struct {
	ID, N, Start, Heading, Software, Keepalives, Lasted, End string
	Why                                                      []string
}

// htmlConn is a connection's section: its timeline, risk scale, keepalive
// table and sentences; Open (it needs attention) shows it at once, the
// others fold it into a <details>, unfolded in a short report (Unfold).
type htmlConn struct {
	ID, N, Heading, Cause, CauseText, Brief string
	Open, Unfold                            bool
	Why                                     []string
	Sentences                               []string
	Rows                                    [][]string
	Facts                                   [][2]string
	Recommendations                         []htmlRec
	Timeline                                htmlTimeline
	ScaleBar                                htmlRect
	Effective                               *htmlLine
	LaneC, LaneS, AxisY                     int
	Left, Right                             int
}

// htmlRec is a recommendation's file and lines.
type htmlRec struct {
	File  string
	Lines []string
}

// HTML writes a self-contained report (inline CSS and SVG, no script, no
// external asset). At the top a summary (who keeps the connections alive,
// how they ended, their software) and an index of every connection, one
// row each, grouped by end cause with the problems first; then per
// connection a timeline of both directions with data, keepalive probes and
// replies, TCP keepalives, unanswered probes, retransmissions and the end
// marked, idle gaps shaded and middlebox idle thresholds drawn, beside its
// summary table. The timelines of connections that need attention
// (needsAttention) are open, the others fold into a <details>. Packets are
// binned into pixel columns, so a connection costs a bounded number of SVG
// elements however many packets it has.
func HTML(w io.Writer, s analyze.Summary, files []string) error {
	r := htmlReport{Files: files, Conns: len(s.Conns), RiskAxis: riskAxis()}
	first, last := captureSpan(s.Conns)
	r.Zone = zoneText(first)
	stamp := func(t time.Time) string { return shown(t).Format("15:04:05") }
	if len(s.Conns) > 0 {
		span := shown(first).Format("2006-01-02 15:04:05") + " – "
		if shown(first).YearDay() != shown(last).YearDay() || shown(first).Year() != shown(last).Year() {
			span += shown(last).Format("2006-01-02 15:04:05")
			stamp = func(t time.Time) string { return shown(t).Format("01-02 15:04:05") }
		} else {
			span += shown(last).Format("15:04:05")
		}
		r.Span = span
	}
	order := make([]int, len(s.Conns))
	attention := make([]bool, len(s.Conns))
	for i, c := range s.Conns {
		order[i], attention[i] = i, needsAttention(c)
		if attention[i] {
			r.Attention++
		}
	}
	// problems first: by cause, those needing attention first, then in order
	slices.SortStableFunc(order, func(a, b int) int {
		ca, cb := s.Conns[a].End.Cause, s.Conns[b].End.Cause
		if c := cmp.Compare(causeRank(ca), causeRank(cb)); c != 0 {
			return c
		}
		if attention[a] != attention[b] {
			if attention[a] {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	for _, i := range order {
		c := s.Conns[i]
		h := htmlConnOf(i+1, c, attention[i], len(s.Conns) <= openAll)
		row := htmlRow{ID: h.ID, N: h.N, Start: stamp(c.FirstSeen), Heading: h.Heading, Software: softwareCell(c),
			Keepalives: keepaliveCell(c), Lasted: lastedText(c.LastSeen.Sub(c.FirstSeen)), End: endCell(c, stamp), Why: h.Why}
		if n := len(r.Groups); n == 0 || r.Groups[n-1].Cause != h.Cause {
			r.Groups = append(r.Groups, htmlGroup{ID: "group-" + h.Cause, Cause: h.Cause, Title: causeTitle(c.End.Cause), Problem: badCause(c.End.Cause)})
		}
		g := &r.Groups[len(r.Groups)-1]
		g.Rows = append(g.Rows, row)
		if attention[i] {
			g.Attention++
		}
		r.Sections = append(r.Sections, h)
	}
	r.Summary = summaryOf(s.Conns, r.Groups)
	return htmlTemplate.Execute(w, r)
}

// captureSpan is the first and last packet of all connections.
func captureSpan(conns []analyze.Conn) (first, last time.Time) {
	for i, c := range conns {
		if i == 0 || c.FirstSeen.Before(first) {
			first = c.FirstSeen
		}
		if i == 0 || c.LastSeen.After(last) {
			last = c.LastSeen
		}
	}
	return first, last
}

// summaryOf counts who keeps the connections alive, how they ended and
// what software they run.
func summaryOf(conns []analyze.Conn, groups []htmlGroup) htmlSummary {
	var s htmlSummary
	var sshBy, tcpBy [2]int
	nobody := 0
	clients, servers := map[string]int{}, map[string]int{}
	for _, c := range conns {
		var ssh, tcp [2]bool
		for _, k := range c.SSH {
			ssh[k.Sender] = true
		}
		for _, k := range c.TCP {
			tcp[k.Sender] = true
		}
		for r := range 2 {
			if ssh[r] {
				sshBy[r]++
			}
			if tcp[r] {
				tcpBy[r]++
			}
		}
		if len(c.SSH) == 0 && len(c.TCP) == 0 {
			nobody++
		}
		if c.End.How == "open" {
			s.Open++
		}
		clients[implOrUnknown(c.Implementations[analyze.Client])]++
		servers[implOrUnknown(c.Implementations[analyze.Server])]++
	}
	s.Alive = []htmlCount{
		{Label: "SSH keepalives from the client", N: sshBy[analyze.Client]},
		{Label: "SSH keepalives from the server", N: sshBy[analyze.Server]},
		{Label: "TCP keepalives from the client", N: tcpBy[analyze.Client]},
		{Label: "TCP keepalives from the server", N: tcpBy[analyze.Server]},
		{Label: "nobody: no keepalive seen", N: nobody, Class: "warn"},
	}
	for _, g := range groups {
		class := ""
		if g.Problem {
			class = "bad"
			s.Problems += len(g.Rows)
		}
		s.Ended = append(s.Ended, htmlCount{Label: g.Cause, Class: class, Href: "#" + g.ID, N: len(g.Rows)})
	}
	s.Clients, s.Servers = topCounts(clients, 5), topCounts(servers, 5)
	return s
}

func implOrUnknown(i analyze.Implementation) string {
	if t := implText(i); t != "" {
		return t
	}
	return "banner not captured"
}

// topCounts are the n most frequent names, the rest added up as "others".
func topCounts(m map[string]int, n int) []htmlCount {
	var out []htmlCount
	for name, k := range m {
		out = append(out, htmlCount{Label: name, N: k})
	}
	slices.SortFunc(out, func(a, b htmlCount) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Label, b.Label)
	})
	if len(out) > n {
		rest := 0
		for _, c := range out[n-1:] {
			rest += c.N
		}
		out = append(out[:n-1], htmlCount{Label: fmt.Sprintf("%d others", len(out)-n+1), N: rest})
	}
	return out
}

// openAll is the most connections a report shows all open: a short report
// folds nothing away.
const openAll = 10

func htmlConnOf(n int, c analyze.Conn, attention, unfold bool) htmlConn {
	h := htmlConn{ID: fmt.Sprintf("conn-%d", n), N: strconv.Itoa(n), LaneC: laneC, LaneS: laneS, AxisY: axisY, Left: svgLeft, Right: svgW - svgRight,
		Heading: fmt.Sprintf("%s → %s", c.Client, c.Server), Open: attention, Unfold: unfold, Why: attentionWhy(c),
		Cause: c.End.Cause.String(), CauseText: endSentence(c), Sentences: Sentences(c),
		Brief: fmt.Sprintf("%s · %s · keepalives: %s", softwareCell(c), lastedText(c.LastSeen.Sub(c.FirstSeen)), keepaliveCell(c))}
	for _, r := range c.Recommendations {
		h.Recommendations = append(h.Recommendations, htmlRec{File: r.File, Lines: settingLines(r)})
	}
	for _, k := range c.SSH {
		h.Rows = append(h.Rows, kaRow("SSH", k))
	}
	for _, k := range c.TCP {
		h.Rows = append(h.Rows, kaRow("TCP", k))
	}
	h.Facts = htmlFacts(c)
	h.Timeline = timelineOf(c, attention || unfold)
	h.ScaleBar, h.Effective = riskMarks(c)
	return h
}

// htmlFacts are the rows of a connection's summary table below its keepalives.
func htmlFacts(c analyze.Conn) [][2]string {
	facts := [][2]string{
		{"first – last packet", shown(c.FirstSeen).Format("2006-01-02 15:04:05.000") + " – " + shown(c.LastSeen).Format("15:04:05.000")},
		{"packets", strconv.Itoa(c.Packets)},
		{"software", softwareText(c)},
		{"end", fmt.Sprintf("%s (%s)", c.End.Cause, c.End.How)},
		{"longest silence", seconds(c.Risk.LongestIdle) + " s"}}
	if c.Risk.EffectiveKeepalive > 0 {
		facts = append(facts, [2]string{"effective keepalive", fmt.Sprintf("%s s (%s)", seconds(c.Risk.EffectiveKeepalive), mechanismName(c.Risk.EffectiveBy))})
	} else {
		facts = append(facts, [2]string{"effective keepalive", "none seen"})
	}
	dropped := "none"
	if len(c.Risk.DroppedBy) > 0 {
		dropped = boxList(c.Risk.DroppedBy)
	}
	return append(facts, [2]string{"dropped by", dropped})
}

// riskX places a duration on the risk scale: log seconds, 1 s to 10 000 s.
func riskX(d time.Duration) float64 {
	s := math.Max(1, d.Seconds())
	return svgLeft + math.Min(math.Log10(s), 4.1)/4*plotWidth
}

// riskAxis is the risk scale's axis, the same for every connection: ticks
// and the middlebox timeouts.
func riskAxis() []htmlLine {
	var scale []htmlLine
	for _, t := range []int{1, 10, 100, 1000, 10000} {
		anchor := "middle"
		if t == 10000 {
			anchor = "end" // at the right edge
		}
		scale = append(scale, htmlLine{X: riskX(time.Duration(t) * time.Second), Class: "tick", Label: strconv.Itoa(t) + " s", Anchor: anchor})
	}
	for i, m := range analyze.Middleboxes() {
		scale = append(scale, htmlLine{X: riskX(m.Timeout), Class: "threshold", Y: 10 + 10*(i%2), Label: strconv.Itoa(int(m.Timeout.Seconds())), Title: fmt.Sprintf("%s: idle timeout %d s", m.Name, int(m.Timeout.Seconds()))})
	}
	return append(scale, htmlLine{X: riskX(7200 * time.Second), Class: "threshold tcpka-default", Y: 10, Label: "7200", Title: "the kernel's first TCP keepalive: 7200 s"})
}

// riskMarks are a connection's marks on the risk scale: the bar of its
// longest silence and the diamond of its keepalive period.
func riskMarks(c analyze.Conn) (htmlRect, *htmlLine) {
	bar := htmlRect{X: svgLeft, W: riskX(c.Risk.LongestIdle) - svgLeft, Title: fmt.Sprintf("longest silence %s s", seconds(c.Risk.LongestIdle))}
	var eff *htmlLine
	if c.Risk.EffectiveKeepalive > 0 {
		eff = &htmlLine{X: riskX(c.Risk.EffectiveKeepalive), Class: "effective", Title: fmt.Sprintf("keepalive every %s s (%s)", seconds(c.Risk.EffectiveKeepalive), mechanismName(c.Risk.EffectiveBy))}
	}
	return bar, eff
}

func kaRow(layer string, k analyze.Keepalives) []string {
	interval := "—"
	if k.Interval.N > 0 {
		interval = seconds(k.Interval.Median)
	}
	return []string{layer, k.Sender.String(), strconv.Itoa(k.Probes), answeredCell(k), strconv.Itoa(k.ProbeBytes), interval}
}
