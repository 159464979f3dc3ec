package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

//go:embed html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f1": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}).Parse(htmlSource))

// Geometry of the per-connection timeline (SVG user units).
const (
	svgW      = 720
	svgLeft   = 110
	svgRight  = 20
	svgH      = 150
	laneC     = 45
	laneS     = 95
	axisY     = 128
	scaleH    = 64
	maxIdle   = 60 // idle gaps shaded per connection, the longest first
	plotWidth = svgW - svgLeft - svgRight
)

type htmlReport struct {
	Files []string
	Conns []htmlConn
	W, H  int
	SW    int
	SH    int
}

type htmlConn struct {
	ID, Heading, Cause, CauseText string
	Sentences                     []string
	Rows                          [][]string
	Facts                         [][2]string
	Recommendations               []htmlRec
	Marks                         []htmlMark
	Idle                          []htmlRect
	Lines                         []htmlLine
	Ticks                         []htmlLine
	Scale                         []htmlLine
	ScaleBar                      htmlRect
	Effective                     *htmlLine
	Note                          string
	LaneC, LaneS, AxisY           int
	Left, Right                   int
}

// htmlRec is a recommendation's file and lines.
type htmlRec struct {
	File  string
	Lines []string
}

type htmlMark struct {
	Class, Shape, Title string
	X, Y                float64
}

type htmlRect struct {
	X, W  float64
	Title string
}

type htmlLine struct {
	X            float64
	Class, Label string
	Title        string
	Anchor       string // of the label: start, middle, end
	Y            int    // of the label (risk scale)
}

// HTML writes a self-contained report (inline CSS and SVG, no script, no
// external asset): per connection a timeline of both directions with data,
// keepalive probes and replies, TCP keepalives, unanswered probes,
// retransmissions and the end marked, idle gaps shaded and middlebox idle
// thresholds drawn, beside its summary table. Connections with Events are
// drawn packet by packet, others from their Activity buckets.
func HTML(w io.Writer, s analyze.Summary, files []string) error {
	r := htmlReport{Files: files, W: svgW, H: svgH, SW: svgW, SH: scaleH}
	for i, c := range s.Conns {
		r.Conns = append(r.Conns, htmlConnOf(i+1, c))
	}
	return htmlTemplate.Execute(w, r)
}

func htmlConnOf(n int, c analyze.Conn) htmlConn {
	h := htmlConn{ID: fmt.Sprintf("conn-%d", n), LaneC: laneC, LaneS: laneS, AxisY: axisY, Left: svgLeft, Right: svgW - svgRight,
		Heading: fmt.Sprintf("%s → %s", c.Client, c.Server),
		Cause:   c.End.Cause.String(), CauseText: endSentence(c), Sentences: Sentences(c)}
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
	pl := newPlot(c)
	var gaps []htmlRect
	if len(c.Events) > 0 {
		h.Marks, gaps = pl.eventMarks(c)
		if c.EventsDropped > 0 {
			h.Note = fmt.Sprintf("%d packets in the middle of this connection are not drawn (the first and last %d are)", c.EventsDropped, len(c.Events)/2)
		}
	} else {
		h.Note = fmt.Sprintf("drawn from %s s buckets (no packet timeline recorded)", seconds(c.Activity.Width))
		h.Marks = pl.bucketMarks(c)
	}
	sort.SliceStable(gaps, func(i, j int) bool { return gaps[i].W > gaps[j].W })
	h.Idle = gaps[:min(len(gaps), maxIdle)]
	h.Lines = append(pl.endLines(c), pl.thresholdLines(c, gaps)...)
	// time axis
	step := niceStep(pl.span)
	for t := time.Duration(0); t <= pl.span && len(h.Ticks) < 20; t += step {
		h.Ticks = append(h.Ticks, htmlLine{X: pl.x(pl.t0.Add(t)), Label: "+" + strconv.FormatFloat(t.Seconds(), 'f', -1, 64) + " s"})
	}
	h.Scale, h.ScaleBar, h.Effective = riskScale(c)
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

// plot maps a connection's time span onto the timeline's width.
type plot struct {
	t0, t1 time.Time
	span   time.Duration
}

func newPlot(c analyze.Conn) plot {
	p := plot{t0: c.FirstSeen, t1: c.LastSeen}
	if c.End.How != "open" && c.End.At.After(p.t1) {
		p.t1 = c.End.At
	}
	if p.span = p.t1.Sub(p.t0); p.span <= 0 {
		p.span = time.Second
	}
	return p
}

func (p plot) x(t time.Time) float64 {
	return svgLeft + float64(t.Sub(p.t0))/float64(p.span)*plotWidth
}

func lane(r analyze.Role) float64 {
	if r == analyze.Client {
		return laneC
	}
	return laneS
}

// eventMarks draws the packets of the timeline and finds the silences.
func (p plot) eventMarks(c analyze.Conn) ([]htmlMark, []htmlRect) {
	var marks []htmlMark
	var gaps []htmlRect
	minGap := max(time.Second, p.span/20)
	prev := c.Events[0].At
	for _, e := range c.Events {
		if g := e.At.Sub(prev); g >= minGap {
			gaps = append(gaps, htmlRect{X: p.x(prev), W: p.x(e.At) - p.x(prev), Title: fmt.Sprintf("silence %s s", seconds(g))})
		}
		prev = e.At
		if m, ok := markOf(e); ok {
			m.X, m.Y = p.x(e.At), lane(e.From)
			m.Title = fmt.Sprintf("%s %s %s, %d B", shown(e.At).Format("15:04:05.000000"), e.From, m.Title, e.PayloadLen)
			marks = append(marks, m)
		}
	}
	return marks, gaps
}

// bucketMarks draws the Activity sketch when no packet timeline was kept.
func (p plot) bucketMarks(c analyze.Conn) []htmlMark {
	var marks []htmlMark
	a := c.Activity
	for i := 0; i < a.Buckets(c.LastSeen); i++ {
		at := a.Start.Add(time.Duration(i)*a.Width + a.Width/2)
		for _, r := range []analyze.Role{analyze.Client, analyze.Server} {
			if mk, ok := bucketMark(a.Marks[i], r); ok {
				mk.X, mk.Y = p.x(at), lane(r)
				marks = append(marks, mk)
			}
		}
	}
	return marks
}

// bucketMark is how one bucket of r's lane is drawn.
func bucketMark(m analyze.Mark, r analyze.Role) (htmlMark, bool) {
	switch {
	case m&(analyze.MarkProbe<<r) != 0 && m&analyze.MarkUnanswered != 0:
		return htmlMark{Class: "mark probe unanswered", Shape: "circle", Title: "SSH keepalive probe (unanswered)"}, true
	case m&(analyze.MarkProbe<<r) != 0:
		return htmlMark{Class: "mark probe", Shape: "circle", Title: "SSH keepalive probe"}, true
	case m&(analyze.MarkTCPProbe<<r) != 0:
		return htmlMark{Class: "mark tcpka", Shape: "tri", Title: "TCP keepalive"}, true
	case m&(analyze.MarkData<<r) != 0:
		return htmlMark{Class: "mark data", Shape: "tick", Title: "data"}, true
	}
	return htmlMark{}, false
}

// endLines mark the end and what the diagnosis rests on.
func (p plot) endLines(c analyze.Conn) []htmlLine {
	var lines []htmlLine
	if c.End.How != "open" {
		lines = append(lines, htmlLine{X: p.x(c.End.At), Class: "end", Label: c.End.Cause.String(), Title: closed(c), Anchor: "end"})
	} else {
		lines = append(lines, htmlLine{X: p.x(p.t1), Class: "end open", Label: c.End.Cause.String(), Title: "the capture ended with the connection open", Anchor: "end"})
	}
	for _, e := range c.End.Evidence {
		if !e.At.IsZero() && !e.At.Before(p.t0) && !e.At.After(p.t1) {
			lines = append(lines, htmlLine{X: p.x(e.At), Class: "evidence", Title: shown(e.At).Format("15:04:05.000") + " " + evidenceText(e)})
		}
	}
	return lines
}

// thresholdLines mark where each middlebox's idle timeout falls after the
// start of the longest silence (gaps, longest first), and an idle drop's
// bracket.
func (p plot) thresholdLines(c analyze.Conn, gaps []htmlRect) []htmlLine {
	var lines []htmlLine
	if len(gaps) > 0 {
		g := gaps[0]
		start := p.t0.Add(time.Duration((g.X - svgLeft) / plotWidth * float64(p.span)))
		for _, m := range analyze.Middleboxes() {
			if at := start.Add(m.Timeout); !at.After(p.t1) {
				lines = append(lines, htmlLine{X: p.x(at), Class: "threshold", Label: fmt.Sprintf("%s %d s", m.Name, int(m.Timeout.Seconds())), Anchor: "middle",
					Title: fmt.Sprintf("%s drops a connection idle %d s: here, %d s after the longest silence began", m.Name, int(m.Timeout.Seconds()), int(m.Timeout.Seconds()))})
			}
		}
	}
	if c.End.Cause == analyze.CauseIdleDrop {
		for _, b := range []struct {
			d     time.Duration
			label string
		}{{c.End.SurvivedIdle, "survived"}, {c.End.FatalIdle, "dropped"}} {
			lines = append(lines, htmlLine{X: p.x(c.End.AliveUntil.Add(b.d)), Class: "threshold bracket", Label: fmt.Sprintf("%s %s s", b.label, seconds(b.d)), Anchor: "middle",
				Title: fmt.Sprintf("the path's idle timeout is more than %s s and less than %s s", seconds(c.End.SurvivedIdle), seconds(c.End.FatalIdle))})
		}
	}
	return lines
}

// riskScale is the log-scale bar of the longest silence and the keepalive
// period against the middlebox timeouts: seconds, 1 s to 10 000 s.
func riskScale(c analyze.Conn) ([]htmlLine, htmlRect, *htmlLine) {
	lx := func(d time.Duration) float64 {
		s := math.Max(1, d.Seconds())
		return svgLeft + math.Log10(s)/4*plotWidth
	}
	var scale []htmlLine
	for _, t := range []int{1, 10, 100, 1000, 10000} {
		scale = append(scale, htmlLine{X: lx(time.Duration(t) * time.Second), Class: "tick", Label: strconv.Itoa(t) + " s"})
	}
	for i, m := range analyze.Middleboxes() {
		scale = append(scale, htmlLine{X: lx(m.Timeout), Class: "threshold", Y: 10 + 10*(i%2), Label: strconv.Itoa(int(m.Timeout.Seconds())), Title: fmt.Sprintf("%s: idle timeout %d s", m.Name, int(m.Timeout.Seconds()))})
	}
	scale = append(scale, htmlLine{X: lx(7200 * time.Second), Class: "threshold tcpka-default", Y: 10, Label: "7200", Title: "the kernel's first TCP keepalive: 7200 s"})
	bar := htmlRect{X: svgLeft, W: lx(c.Risk.LongestIdle) - svgLeft, Title: fmt.Sprintf("longest silence %s s", seconds(c.Risk.LongestIdle))}
	var eff *htmlLine
	if c.Risk.EffectiveKeepalive > 0 {
		eff = &htmlLine{X: lx(c.Risk.EffectiveKeepalive), Class: "effective", Title: fmt.Sprintf("keepalive every %s s (%s)", seconds(c.Risk.EffectiveKeepalive), mechanismName(c.Risk.EffectiveBy))}
	}
	return scale, bar, eff
}

func kaRow(layer string, k analyze.Keepalives) []string {
	interval := "—"
	if k.Interval.N > 0 {
		interval = seconds(k.Interval.Median)
	}
	return []string{layer, k.Sender.String(), strconv.Itoa(k.Probes), answeredCell(k), strconv.Itoa(k.ProbeBytes), interval}
}

// markOf is how a packet of the timeline is drawn; pure ACKs are not.
func markOf(e analyze.Event) (htmlMark, bool) {
	switch {
	case e.Flags.Has(analyze.FlagRST):
		return htmlMark{Class: "mark rst", Shape: "bar", Title: "RST"}, true
	case e.Flags.Has(analyze.FlagFIN):
		return htmlMark{Class: "mark fin", Shape: "bar", Title: "FIN"}, true
	}
	switch e.Label {
	case analyze.LabelSSHProbe:
		return htmlMark{Class: "mark probe", Shape: "circle", Title: labelText(e.Label)}, true
	case analyze.LabelSSHProbeUnanswered:
		return htmlMark{Class: "mark probe unanswered", Shape: "circle", Title: labelText(e.Label)}, true
	case analyze.LabelSSHReply:
		return htmlMark{Class: "mark reply", Shape: "rect", Title: labelText(e.Label)}, true
	case analyze.LabelTCPProbe:
		return htmlMark{Class: "mark tcpka", Shape: "tri", Title: labelText(e.Label)}, true
	case analyze.LabelTCPProbeUnanswered:
		return htmlMark{Class: "mark tcpka unanswered", Shape: "tri", Title: labelText(e.Label)}, true
	case analyze.LabelTCPProbeAck:
		return htmlMark{Class: "mark tcpack", Shape: "rect", Title: labelText(e.Label)}, true
	case analyze.LabelRetransmission:
		return htmlMark{Class: "mark retrans", Shape: "x", Title: labelText(e.Label)}, true
	case analyze.LabelDuplicate:
		return htmlMark{}, false
	case analyze.LabelWindowProbe:
		return htmlMark{Class: "mark winprobe", Shape: "tick", Title: labelText(e.Label)}, true
	}
	if e.PayloadLen > 0 {
		return htmlMark{Class: "mark data", Shape: "tick", Title: "data"}, true
	}
	return htmlMark{}, false
}

// niceStep picks a tick spacing giving 4-10 ticks over span.
func niceStep(span time.Duration) time.Duration {
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400} {
		d := time.Duration(s * float64(time.Second))
		if span/d <= 10 {
			return d
		}
	}
	return span / 10
}
