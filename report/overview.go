package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// The overview: with more than overviewAbove connections (a bastion's
// capture) the text report starts with an aggregate and one line per
// connection, and gives the full detail only of the connections that need
// attention (see attention).

// overviewAbove is the most connections shown in full detail without an
// overview: five connections' detail (about 10 lines each) is a screenful,
// and every bundled single-scenario capture (at most 3) stays as it was.
const overviewAbove = 5

// Options shape the text report.
type Options struct {
	// All gives the full detail of every connection, also under the
	// overview.
	All bool
}

// quiet reports whether c is a session without keepalives whose silences
// all stayed under the shortest common middlebox idle timeout: under the
// overview it gets no risk line and no advice of its own (one line speaks
// for all of them).
func quiet(c analyze.Conn) bool {
	return !c.NotSSH && c.Risk.NoKeepalive && attention(c) == NoProblem
}

// overview writes the aggregate, the connection lines and the detail of
// the connections that need attention (of all with o.All).
func overview(w io.Writer, s analyze.Summary, o Options) error {
	conns := s.Conns
	aggregate(w, conns)
	fmt.Fprintln(w)
	listed := slices.Clone(conns)
	slices.SortStableFunc(listed, func(a, b analyze.Conn) int {
		return cmp.Compare(rank(attention(a)), rank(attention(b)))
	})
	folded := 0
	if !o.All {
		listed = slices.DeleteFunc(listed, func(c analyze.Conn) bool {
			if quiet(c) && c.End.Cause != analyze.CauseUnknown {
				folded++
				return true
			}
			return false
		})
	}
	connLines(w, listed)
	if folded > 0 {
		fmt.Fprintf(w, "  … and %s without keepalives that ended normally or are open, none silent for %d s (--all lists them)\n",
			plural(folded, "short session"), int(analyze.Middleboxes()[0].Timeout.Seconds()))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "timelines: "+legend)
	if o.All {
		for _, c := range conns {
			fmt.Fprintln(w)
			if err := connDetail(w, c, true); err != nil {
				return err
			}
		}
		return nil
	}
	return attentionDetail(w, listed)
}

// rank orders problems for the list: the attention ones first.
func rank(p Problem) int {
	if p == NoProblem {
		return 99
	}
	return int(p)
}

// attentionDetail gives the full detail of the connections that need
// attention: one per kind of problem (the first), and how many more are
// like it, so that a bastion's 50 keepalive timeouts take one screen.
func attentionDetail(w io.Writer, conns []analyze.Conn) error {
	type group struct {
		first analyze.Conn
		more  int
	}
	var order []string
	groups := map[string]*group{}
	for _, c := range conns {
		p := attention(c)
		if p == NoProblem {
			continue
		}
		key := problemText(c)
		if g, ok := groups[key]; ok {
			g.more++
			continue
		}
		groups[key] = &group{first: c}
		order = append(order, key)
	}
	if len(order) == 0 {
		fmt.Fprintln(w, "\nno connection needs attention")
		return nil
	}
	for _, key := range order {
		g := groups[key]
		head := fmt.Sprintf("\n! %s", key)
		if g.more > 0 {
			hint := "--all"
			if attention(g.first) == EndedBadly {
				hint = "--all --cause " + g.first.End.Cause.String()
			}
			head += fmt.Sprintf(": %s, the first in full (%s shows each)", plural(g.more+1, "connection"), hint)
		}
		fmt.Fprintln(w, head)
		if err := connDetail(w, g.first, true); err != nil {
			return err
		}
	}
	return nil
}

// problemText names a connection's problem, the same for connections
// that share it.
func problemText(c analyze.Conn) string {
	switch attention(c) {
	case EndedBadly:
		return fmt.Sprintf("ended: %s (%s)", c.End.Cause, c.End.Actor)
	case Unanswered:
		return "keepalives unanswered, connection " + causeText(c)
	case AtRisk:
		if c.Risk.NoKeepalive {
			return fmt.Sprintf("at risk: no keepalives and silences of %d s or more", int(analyze.Middleboxes()[0].Timeout.Seconds()))
		}
		return fmt.Sprintf("at risk: keepalives too rare or silences of %d s or more", int(analyze.Middleboxes()[0].Timeout.Seconds()))
	}
	return ""
}

// aggregate writes the overview's first block: how many, what software,
// who keeps them alive, how they ended, the worst risks, what needs
// attention.
func aggregate(w io.Writer, conns []analyze.Conn) {
	first, last := conns[0].FirstSeen, conns[0].LastSeen
	packets := 0
	for _, c := range conns {
		first, last = minTime(first, c.FirstSeen), maxTime(last, c.LastSeen)
		packets += c.Packets
	}
	fmt.Fprintf(w, "%s, %s – %s (%s), %s\n", plural(len(conns), "connection"),
		shown(first).Format("2006-01-02 15:04:05"), shown(last).Format(dayLayout(first, last)), span(last.Sub(first)), plural(packets, "packet"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range []analyze.Role{analyze.Client, analyze.Server} {
		fmt.Fprintf(tw, "  %s software\t%s\n", r, tally(conns, 4, func(c analyze.Conn) string {
			if c.NotSSH {
				return ""
			}
			return orDash(implText(c.Implementations[r]))
		}))
	}
	fmt.Fprintf(tw, "  kept alive by\t%s\n", tally(conns, 0, keptBy))
	fmt.Fprintf(tw, "  ended\t%s\n", tally(conns, 0, func(c analyze.Conn) string {
		if c.NotSSH {
			return ""
		}
		return c.End.Cause.String()
	}))
	if n := count(conns, func(c analyze.Conn) bool { return c.NotSSH }); n > 0 {
		fmt.Fprintf(tw, "  not SSH\t%s (no SSH banner: no SSH verdicts)\n", plural(n, "connection"))
	}
	worst := worstRisks(conns, 3)
	for i, c := range worst {
		label := ""
		if i == 0 {
			label = "worst risks"
		}
		fmt.Fprintf(tw, "  %s\t%s → %s: %s\n", label, c.Client, c.Server, worstText(c))
	}
	if n := count(conns, quiet); n > 0 {
		fmt.Fprintf(tw, "  no keepalives\t%s never silent for %d s: fine as they were; a session left idle longer needs one (e.g. ServerAliveInterval 60 in ~/.ssh/config, or ClientAliveInterval 60 in sshd_config)\n",
			plural(n, "session"), int(analyze.Middleboxes()[0].Timeout.Seconds()))
	}
	var parts []string
	for _, p := range []Problem{EndedBadly, Unanswered, AtRisk} {
		if n := count(conns, func(c analyze.Conn) bool { return attention(c) == p }); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, problemName(p)))
		}
	}
	need := "none"
	if len(parts) > 0 {
		need = fmt.Sprintf("%s (marked !): %s", plural(count(conns, func(c analyze.Conn) bool { return attention(c) != NoProblem }), "connection"), strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "  need attention\t%s\n", need)
	tw.Flush()
}

func problemName(p Problem) string {
	switch p {
	case EndedBadly:
		return "ended badly"
	case Unanswered:
		return "with unanswered keepalives"
	case AtRisk:
		return fmt.Sprintf("at risk (silences or keepalive period ≥ %d s)", int(analyze.Middleboxes()[0].Timeout.Seconds()))
	}
	return ""
}

// keptBy says who keeps c alive: "SSH client", "SSH server", "SSH both",
// "TCP only", "nobody".
func keptBy(c analyze.Conn) string {
	if c.NotSSH {
		return ""
	}
	var by [2]bool
	for _, k := range c.SSH {
		by[k.Sender] = true
	}
	switch {
	case by[0] && by[1]:
		return "SSH client and server"
	case by[0]:
		return "SSH client"
	case by[1]:
		return "SSH server"
	case len(c.TCP) > 0:
		return "TCP only"
	}
	return "nobody"
}

// tally counts the values key gives (""s left out), most frequent first,
// at most top of them (0: all) and the rest as "N other".
func tally(conns []analyze.Conn, top int, key func(analyze.Conn) string) string {
	counts := map[string]int{}
	var keys []string
	for _, c := range conns {
		k := key(c)
		if k == "" {
			continue
		}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	var parts []string
	rest := 0
	for i, k := range keys {
		if top > 0 && i >= top {
			rest += counts[k]
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("%d other", rest))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func count(conns []analyze.Conn, f func(analyze.Conn) bool) int {
	n := 0
	for _, c := range conns {
		if f(c) {
			n++
		}
	}
	return n
}

// worstRisks are the at most n connections at risk with the longest
// silence or keepalive period, longest first.
func worstRisks(conns []analyze.Conn, n int) []analyze.Conn {
	var out []analyze.Conn
	for _, c := range conns {
		if attention(c) == AtRisk {
			out = append(out, c)
		}
	}
	exposure := func(c analyze.Conn) time.Duration { return max(c.Risk.LongestIdle, c.Risk.EffectiveKeepalive) }
	slices.SortStableFunc(out, func(a, b analyze.Conn) int { return cmp.Compare(exposure(b), exposure(a)) })
	return out[:min(n, len(out))]
}

func worstText(c analyze.Conn) string {
	kept := "no keepalives"
	if !c.Risk.NoKeepalive {
		kept = fmt.Sprintf("keepalives every %s s (%s)", seconds(c.Risk.EffectiveKeepalive), mechanismText(c.Risk.EffectiveBy))
	}
	return fmt.Sprintf("%s, longest silence %s s", kept, seconds(c.Risk.LongestIdle))
}

// connLines writes one line per connection: a mark for attention, when,
// who, what software, how it ended, who keeps it alive (last: the longest).
func connLines(w io.Writer, conns []analyze.Conn) {
	if len(conns) == 0 {
		return
	}
	first, last := conns[0].FirstSeen, conns[0].LastSeen
	for _, c := range conns {
		first, last = minTime(first, c.FirstSeen), maxTime(last, c.LastSeen)
	}
	layout := dayLayout(first, last)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tstart\tlength\tclient → server\tsoftware\tend\tkeepalives")
	for _, c := range conns {
		mark := ""
		if attention(c) != NoProblem {
			mark = "!"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s → %s\t%s\t%s\t%s\n", mark, shown(c.FirstSeen).Format(layout), span(c.LastSeen.Sub(c.FirstSeen)),
			c.Client, c.Server, softwareShort(c), causeText(c), keepaliveShort(c))
	}
	tw.Flush()
}

// softwareShort is "OpenSSH 9.2p1/9.6p1", "PuTTY 0.78/OpenSSH 9.2p1", or
// "—" when no banner was captured.
func softwareShort(c analyze.Conn) string {
	if c.NotSSH {
		return "not SSH"
	}
	ci, si := c.Implementations[analyze.Client], c.Implementations[analyze.Server]
	if ci.Name == si.Name && ci.Name != "" && ci.Version != "" && si.Version != "" {
		return clean(ci.Name + " " + ci.Version + "/" + si.Version)
	}
	return orDash(implText(ci)) + "/" + orDash(implText(si))
}

// keepaliveShort is "SSH server 10.0 s, 2 unanswered; TCP client 30.0 s".
func keepaliveShort(c analyze.Conn) string {
	var parts []string
	add := func(layer string, k analyze.Keepalives) {
		p := fmt.Sprintf("%s %s", layer, k.Sender)
		if k.Interval.N > 0 {
			p += " " + seconds(k.Every()) + " s"
		} else {
			p += " (1 probe)"
		}
		if k.LongestUnanswered > 0 {
			p += fmt.Sprintf(", %d unanswered", k.Probes-k.Answered-k.Pending)
		}
		parts = append(parts, p)
	}
	for _, k := range c.SSH {
		add("SSH", k)
	}
	for _, k := range c.TCP {
		add("TCP", k)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// causeText is the end cause as --cause and the JSON name it, with who
// acted where it says something.
func causeText(c analyze.Conn) string {
	e := c.End
	switch e.Cause {
	case analyze.CauseOpen:
		return "open"
	case analyze.CauseUnknown:
		return fmt.Sprintf("unknown (%s by the %s)", strings.ToUpper(e.How), e.By)
	case analyze.CauseUserExit, analyze.CauseIdleLogout, analyze.CauseCommandEnded, analyze.CauseServerEnded:
		return e.Cause.String()
	}
	return fmt.Sprintf("%s (%s)", e.Cause, e.Actor)
}

// dayLayout is the time layout for times between first and last: the
// date is left out within one day.
func dayLayout(first, last time.Time) string {
	if shown(first).YearDay() == shown(last).YearDay() && last.Sub(first) < 24*time.Hour {
		return "15:04:05"
	}
	return "01-02 15:04:05"
}

// span is a length of time for the overview: "45s", "4m05s", "2h03m".
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// plural is "1 connection", "2 connections".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
