package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// Geometry of the per-connection timeline (SVG user units, one per CSS
// pixel): the plot has one column per unit between svgLeft and svgW-svgRight.
// html.tmpl writes svgW, svgH and scaleH out.
const (
	svgW      = 720
	svgLeft   = 110
	svgRight  = 20
	svgH      = 150
	laneC     = 45
	laneS     = 95
	axisY     = 128
	scaleH    = 64
	maxIdle   = 20 // silences shaded per connection, the longest first
	plotWidth = svgW - svgLeft - svgRight
	// maxTitled is how many pixel columns of one kind of mark (per lane) a
	// connection that needs attention draws as separate elements, each
	// with its time in a tooltip; past it, and for the other connections,
	// each kind is one path.
	maxTitled = 40
)

// markClass is a kind of mark on the timeline, in drawing order (later
// ones on top).
type markClass uint8

const (
	mcData markClass = iota
	mcWindowProbe
	mcTCPAck
	mcReply
	mcTCP
	mcTCPUnanswered
	mcProbe
	mcProbeUnanswered
	mcRetrans
	mcFIN
	mcRST
	nMarkClasses
)

// markStyle is a mark's CSS class, shape and words.
func markStyle(m markClass) (class, shape, what string) {
	switch m {
	case mcData:
		return "mark data", "data", "data"
	case mcWindowProbe:
		return "mark winprobe", "tick", labelText(analyze.LabelWindowProbe)
	case mcTCPAck:
		return "mark tcpack", "cap", labelText(analyze.LabelTCPProbeAck)
	case mcReply:
		return "mark reply", "cap", labelText(analyze.LabelSSHReply)
	case mcTCP:
		return "mark tcpka", "tri", labelText(analyze.LabelTCPProbe)
	case mcTCPUnanswered:
		return "mark tcpka unanswered", "tri", labelText(analyze.LabelTCPProbeUnanswered)
	case mcProbe:
		return "mark probe", "cap", labelText(analyze.LabelSSHProbe)
	case mcProbeUnanswered:
		return "mark probe unanswered", "circle", labelText(analyze.LabelSSHProbeUnanswered)
	case mcRetrans:
		return "mark retrans", "x", labelText(analyze.LabelRetransmission)
	case mcFIN:
		return "mark fin", "bar", "FIN"
	case mcRST:
		return "mark rst", "bar", "RST"
	}
	return "mark", "tick", "unknown"
}

// classOf is how a packet of the timeline is drawn; pure ACKs and
// duplicates are not.
func classOf(e analyze.Event) (markClass, bool) {
	switch {
	case e.Flags.Has(analyze.FlagRST):
		return mcRST, true
	case e.Flags.Has(analyze.FlagFIN):
		return mcFIN, true
	}
	switch e.Label {
	case analyze.LabelSSHProbe:
		return mcProbe, true
	case analyze.LabelSSHProbeUnanswered:
		return mcProbeUnanswered, true
	case analyze.LabelSSHReply:
		return mcReply, true
	case analyze.LabelTCPProbe:
		return mcTCP, true
	case analyze.LabelTCPProbeUnanswered:
		return mcTCPUnanswered, true
	case analyze.LabelTCPProbeAck:
		return mcTCPAck, true
	case analyze.LabelRetransmission:
		return mcRetrans, true
	case analyze.LabelDuplicate:
		return 0, false
	case analyze.LabelWindowProbe:
		return mcWindowProbe, true
	}
	return mcData, e.PayloadLen > 0
}

// bucketClass is how one Activity bucket of r's lane is drawn.
func bucketClass(m analyze.Mark, r analyze.Role) (markClass, bool) {
	switch {
	case m&(analyze.MarkProbe<<r) != 0 && m&analyze.MarkUnanswered != 0:
		return mcProbeUnanswered, true
	case m&(analyze.MarkProbe<<r) != 0:
		return mcProbe, true
	case m&(analyze.MarkTCPProbe<<r) != 0:
		return mcTCP, true
	case m&(analyze.MarkData<<r) != 0:
		return mcData, true
	}
	return 0, false
}

// cell is what fell into one pixel column of one lane for one kind of mark.
type cell struct {
	n           int
	first, last time.Time
	bytes       int // of the first
}

// raster is a connection's packets binned into pixel columns: its size is
// bounded by the plot's width, whatever the number of packets.
type raster [2][nMarkClasses]map[int]*cell

func (r *raster) add(lane analyze.Role, m markClass, col int, at time.Time, bytes int) {
	col = min(max(col, 0), plotWidth-1)
	if r[lane][m] == nil {
		r[lane][m] = map[int]*cell{}
	}
	c := r[lane][m][col]
	if c == nil {
		r[lane][m][col] = &cell{n: 1, first: at, last: at, bytes: bytes}
		return
	}
	c.n++
	c.last = at
}

// htmlTimeline is one connection's timeline.
type htmlTimeline struct {
	Idle  []htmlRect
	Marks []htmlPath
	Lines []htmlLine
	Ticks []htmlLine
	TickD string // the ticks' strokes, appended to the axis path
	Note  string
}

// htmlPath is one SVG path: one mark with its tooltip, or every mark of a
// kind in a lane.
type htmlPath struct {
	Class, D, Title string
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

// timelineOf draws c's timeline; titled says whether few marks get a
// tooltip each.
func timelineOf(c analyze.Conn, titled bool) htmlTimeline {
	var t htmlTimeline
	p := newPlot(c)
	var r raster
	var gaps []htmlRect
	if len(c.Events) > 0 {
		gaps = p.rasterEvents(c, &r)
		if c.EventsDropped > 0 {
			t.Note = fmt.Sprintf("%d packets in the middle of this connection are not drawn (the first and last %d are)", c.EventsDropped, len(c.Events)/2)
		}
	} else {
		t.Note = fmt.Sprintf("drawn from %s s buckets (no packet timeline recorded)", seconds(c.Activity.Width))
		p.rasterBuckets(c, &r)
	}
	limit := 0
	if titled {
		limit = maxTitled
	}
	t.Marks = r.paths(limit)
	slices.SortStableFunc(gaps, func(a, b htmlRect) int { return cmp.Compare(b.W, a.W) })
	t.Idle = gaps[:min(len(gaps), maxIdle)]
	t.Lines = append(p.endLines(c), p.thresholdLines(c, gaps)...)
	step := niceStep(p.span)
	for d := time.Duration(0); d <= p.span && len(t.Ticks) < 20; d += step {
		x := p.x(p.t0.Add(d))
		t.Ticks = append(t.Ticks, htmlLine{X: x, Label: "+" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"})
		t.TickD += fmt.Sprintf("M%s %dv5", f1(x), axisY)
	}
	return t
}

// paths turns the raster into SVG paths: data as one path per lane of bars
// whose height grows with the packets in the column; other marks one
// element each (with a tooltip) while a kind has at most limit columns in
// a lane, else one path for them all.
func (r *raster) paths(limit int) []htmlPath {
	var out []htmlPath
	for m := markClass(0); m < nMarkClasses; m++ {
		class, shape, what := markStyle(m)
		for lane := analyze.Client; lane <= analyze.Server; lane++ {
			cells := r[lane][m]
			if len(cells) == 0 {
				continue
			}
			cols := make([]int, 0, len(cells))
			n := 0
			for col, c := range cells {
				cols = append(cols, col)
				n += c.n
			}
			slices.Sort(cols)
			y := laneY(lane)
			switch {
			case m == mcData:
				out = append(out, htmlPath{Class: class, D: dataBars(cols, cells, y),
					Title: fmt.Sprintf("%s from the %s: %d packets (taller: more packets in that pixel)", what, lane, n)})
			case len(cols) <= limit:
				for _, col := range cols {
					c := cells[col]
					out = append(out, htmlPath{Class: class, D: shapeD(shape, colX(col), y), Title: cellTitle(lane, what, c)})
				}
			case shape == "cap":
				if len(cols) > plotWidth/12 {
					class += " dense" // marks closer than their size: smaller ones
				}
				out = append(out, htmlPath{Class: class, D: dots(cols, y), Title: fmt.Sprintf("%s from the %s: %d", what, lane, n)})
			default:
				var d strings.Builder
				for _, col := range cols {
					d.WriteString(shapeD(shape, colX(col), y))
				}
				out = append(out, htmlPath{Class: class, D: d.String(), Title: fmt.Sprintf("%s from the %s: %d", what, lane, n)})
			}
		}
	}
	return out
}

// laneY is the height of r's lane.
func laneY(r analyze.Role) int {
	if r == analyze.Client {
		return laneC
	}
	return laneS
}

// colX is the middle of a pixel column.
func colX(col int) float64 { return svgLeft + float64(col) + 0.5 }

// dataBars draws one bar per column, 6 units for one packet and 3 more per
// doubling, at most 24, centred on the lane; relative moves keep it short.
func dataBars(cols []int, cells map[int]*cell, y int) string {
	var b strings.Builder
	px, py := 0.0, 0
	for i, col := range cols {
		h := min(24, 6+int(3*math.Log2(float64(cells[col].n))))
		top := y - h/2
		x := colX(col)
		if i == 0 {
			fmt.Fprintf(&b, "M%s %dv%d", f1(x), top, h)
		} else {
			fmt.Fprintf(&b, "m%s%sv%d", f1(x-px), signed(top-py), h)
		}
		px, py = x, top+h
	}
	return b.String()
}

// dots draws a zero-length segment per column: the stroke's cap (CSS) is
// the mark, a few bytes each.
func dots(cols []int, y int) string {
	var b strings.Builder
	for i, col := range cols {
		if i == 0 {
			fmt.Fprintf(&b, "M%s %dh0", f1(colX(col)), y)
		} else {
			fmt.Fprintf(&b, "m%d 0h0", col-cols[i-1])
		}
	}
	return b.String()
}

// signed is n with a separating space unless its minus sign separates it.
func signed(n int) string {
	if n < 0 {
		return strconv.Itoa(n)
	}
	return " " + strconv.Itoa(n)
}

// f1 is v with at most one decimal, without a trailing ".0".
func f1(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// shapeD is the path of one mark centred on (x, y).
func shapeD(shape string, x float64, y int) string {
	switch shape {
	case "cap":
		return fmt.Sprintf("M%s %dh0", f1(x), y)
	case "circle":
		return fmt.Sprintf("M%s %da4 4 0 1 0 8 0a4 4 0 1 0-8 0", f1(x-4), y)
	case "square":
		return fmt.Sprintf("M%s %dh6v6h-6z", f1(x-3), y-3)
	case "tri":
		return fmt.Sprintf("M%s %dl5 10h-10z", f1(x), y-6)
	case "x":
		return fmt.Sprintf("M%s %dl8 8m0-8l-8 8", f1(x-4), y-4)
	case "bar":
		return fmt.Sprintf("M%s %dh3v22h-3z", f1(x-1.5), y-11)
	}
	return fmt.Sprintf("M%s %dh1.5v14h-1.5z", f1(x-0.75), y-7)
}

// cellTitle is the tooltip of one mark: its time, or the first and last
// time of the packets it stands for.
func cellTitle(lane analyze.Role, what string, c *cell) string {
	if c.n == 1 {
		return fmt.Sprintf("%s %s %s, %d B", shown(c.first).Format("15:04:05.000000"), lane, what, c.bytes)
	}
	return fmt.Sprintf("%s – %s %s %s ×%d", shown(c.first).Format("15:04:05.000"), shown(c.last).Format("15:04:05.000"), lane, what, c.n)
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

// col is the pixel column of t.
func (p plot) col(t time.Time) int { return int(p.x(t)) - svgLeft }

// rasterEvents bins the packets of the timeline and finds the silences.
func (p plot) rasterEvents(c analyze.Conn, r *raster) []htmlRect {
	var gaps []htmlRect
	minGap := max(time.Second, p.span/20)
	prev := c.Events[0].At
	for _, e := range c.Events {
		if g := e.At.Sub(prev); g >= minGap {
			gaps = append(gaps, htmlRect{X: p.x(prev), W: p.x(e.At) - p.x(prev), Title: fmt.Sprintf("silence %s s", seconds(g))})
		}
		prev = e.At
		if m, ok := classOf(e); ok {
			r.add(e.From, m, p.col(e.At), e.At, e.PayloadLen)
		}
	}
	return gaps
}

// rasterBuckets bins the Activity sketch when no packet timeline was kept.
func (p plot) rasterBuckets(c analyze.Conn, r *raster) {
	a := c.Activity
	for i := 0; i < a.Buckets(c.LastSeen); i++ {
		at := a.Start.Add(time.Duration(i)*a.Width + a.Width/2)
		for _, lane := range []analyze.Role{analyze.Client, analyze.Server} {
			if m, ok := bucketClass(a.Marks[i], lane); ok {
				r.add(lane, m, p.col(at), at, 0)
			}
		}
	}
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
