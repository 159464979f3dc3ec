package report

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// busy is a connection of n packets over an hour: data both ways, every
// 120 s an SSH keepalive probe from the client and its reply.
func busy(n int) analyze.Conn {
	c := putty()
	c.LastSeen = t0.Add(time.Hour)
	c.End = analyze.End{How: "fin", By: analyze.Client, Cause: analyze.CauseUserExit, At: c.LastSeen}
	step := time.Hour / time.Duration(n)
	probes := 0
	for i := range n {
		at := t0.Add(time.Duration(i) * step)
		e := analyze.Event{At: at, From: analyze.Role(i % 2), Flags: analyze.FlagACK | analyze.FlagPSH, PayloadLen: 36}
		if k := int(at.Sub(t0) / (120 * time.Second)); k > probes {
			probes = k
			e.From, e.Label = analyze.Client, analyze.LabelSSHProbe
		} else if i > 0 && c.Events[i-1].Label == analyze.LabelSSHProbe {
			e.From, e.Label = analyze.Server, analyze.LabelSSHReply
		}
		c.Events = append(c.Events, e)
	}
	c.Events[n-1].Flags |= analyze.FlagFIN
	return c
}

var svgElement = regexp.MustCompile(`<(path|rect|circle|polygon|line|text|g|use|title|svg)[ >/]`)

// TestHTMLBoundedCost: a connection's timeline costs SVG elements and bytes
// bounded by the plot's width: 200 000 packets cost no more than 2 000,
// whether the connection needs attention (marks drawn one by one with
// tooltips, up to maxTitled per kind) or not.
func TestHTMLBoundedCost(t *testing.T) {
	for _, attention := range []bool{false, true} {
		var elems, size [2]int
		var sec1 string
		for i, n := range []int{2000, 200000} {
			c := busy(n)
			if attention {
				c.Risk.DroppedBy, c.Risk.LongestIdle = analyze.Middleboxes(), 300*time.Second
			}
			// 11 connections: above openAll, so the others fold
			conns := make([]analyze.Conn, 11)
			for j := range conns {
				conns[j] = putty()
			}
			conns[0] = c
			var b bytes.Buffer
			if err := HTML(&b, analyze.Summary{Conns: conns}, nil); err != nil {
				t.Fatal(err)
			}
			sec := section(t, b.String(), "conn-1")
			elems[i], size[i] = len(svgElement.FindAllString(sec, -1)), len(sec)
			sec1 = sec
		}
		t.Logf("attention %v: %d packets: %d elements, %d B; %d packets: %d elements, %d B", attention, 2000, elems[0], size[0], 200000, elems[1], size[1])
		if attention && !strings.Contains(sec1, "client SSH keepalive probe, 36 B</title>") {
			t.Error("attention: the probes are not drawn one by one, each with its time")
		}
		if elems[1] > elems[0]+10 || elems[1] > 150+4*maxTitled {
			t.Errorf("attention %v: %d SVG elements for 200 000 packets, %d for 2 000", attention, elems[1], elems[0])
		}
		if size[1] > 40000 {
			t.Errorf("attention %v: a connection of 200 000 packets takes %d B", attention, size[1])
		}
	}
}

// section is the HTML of one connection's section.
func section(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `<section class="conn" id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no section %s", id)
	}
	end := strings.Index(page[start:], "</section>")
	return page[start : start+end]
}

// TestNeedsAttention: what needs a reader's attention, and that the index
// says why exactly when it does.
func TestNeedsAttention(t *testing.T) {
	ok := putty()
	end := func(cause analyze.Cause, how string) analyze.Conn {
		c := putty()
		c.End.Cause, c.End.How = cause, how
		return c
	}
	unanswered := putty()
	unanswered.SSH = []analyze.Keepalives{{Sender: analyze.Client, Kind: analyze.KindGlobalRequest, Message: analyze.MsgGlobalRequest, Probes: 5, Answered: 3}}
	pending := putty()
	pending.SSH = []analyze.Keepalives{{Sender: analyze.Client, Kind: analyze.KindGlobalRequest, Message: analyze.MsgGlobalRequest, Probes: 5, Answered: 4, Pending: 1}}
	tcp := putty()
	tcp.TCP = []analyze.Keepalives{{Sender: analyze.Server, Kind: analyze.KindTCP, Probes: 3, Answered: 2}}
	atRisk := putty()
	atRisk.Risk.DroppedBy, atRisk.Risk.LongestIdle = analyze.Middleboxes()[:1], 250*time.Second
	for _, tt := range []struct {
		name string
		c    analyze.Conn
		want bool
	}{
		{"open, keepalives every 2 s", ok, false},
		{"ordinary exit", end(analyze.CauseUserExit, "fin"), false},
		{"ordinary exit by reset", end(analyze.CauseUserExit, "rst"), false},
		{"idle logout", end(analyze.CauseIdleLogout, "fin"), false},
		{"keepalive timeout", end(analyze.CauseKeepaliveTimeout, "fin"), true},
		{"dead path", end(analyze.CauseDeadPath, "open"), true},
		{"TCP keepalive timeout", end(analyze.CauseTCPKeepaliveTimeout, "rst"), true},
		{"idle drop", end(analyze.CauseIdleDrop, "open"), true},
		{"reset without a sign of why", end(analyze.CauseUnknown, "rst"), false},
		{"SSH probes unanswered", unanswered, true},
		{"a probe awaiting its reply at the capture's end", pending, false},
		{"TCP keepalive unanswered", tcp, true},
		{"at risk", atRisk, true},
	} {
		if got := needsAttention(tt.c); got != tt.want {
			t.Errorf("%s: needsAttention %v, want %v", tt.name, got, tt.want)
		}
		if why := attentionWhy(tt.c); (len(why) > 0) != tt.want {
			t.Errorf("%s: why %q, needsAttention %v", tt.name, why, tt.want)
		}
	}
}

// TestHTMLLayout: the summary and the index come before the first
// connection; the index groups connections by end cause, problems first,
// lists every connection once and links to its section; sections follow
// the index's order, those needing attention open, the others folded.
func TestHTMLLayout(t *testing.T) {
	causes := []analyze.Cause{analyze.CauseUserExit, analyze.CauseOpen, analyze.CauseDeadPath, analyze.CauseUserExit,
		analyze.CauseKeepaliveTimeout, analyze.CauseIdleLogout, analyze.CauseDeadPath, analyze.CauseUnknown,
		analyze.CauseUserExit, analyze.CauseOpen, analyze.CauseIdleDrop, analyze.CauseUserExit}
	var conns []analyze.Conn
	for i, cause := range causes {
		c := putty()
		c.Client = netip.AddrPortFrom(c.Client.Addr(), uint16(40000+i))
		c.FirstSeen = t0.Add(time.Duration(i) * time.Minute)
		c.LastSeen = c.FirstSeen.Add(11 * time.Second)
		c.End.Cause, c.End.How = cause, "fin"
		if cause == analyze.CauseUnknown {
			c.End.How = "rst"
		}
		conns = append(conns, c)
	}
	conns[3].Risk.DroppedBy, conns[3].Risk.LongestIdle = analyze.Middleboxes(), 400*time.Second // an ordinary exit at risk
	var b bytes.Buffer
	if err := HTML(&b, analyze.Summary{Conns: conns}, []string{"a.pcap"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	summary, index, first := strings.Index(page, `id="summary"`), strings.Index(page, `id="index"`), strings.Index(page, `<section class="conn"`)
	if summary < 0 || index < summary || first < index {
		t.Fatalf("summary at %d, index at %d, first connection at %d", summary, index, first)
	}
	if !strings.Contains(page[:summary], "2026-12-01 02:00:00 – 02:11:11 <b>UTC</b>") {
		t.Errorf("no capture span with its zone in the header:\n%s", page[:summary])
	}
	groups := regexp.MustCompile(`<tbody id="group-([a-z-]+)">`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, g := range groups {
		got = append(got, g[1])
	}
	want := "dead-path keepalive-timeout idle-drop unknown idle-logout open user-exit"
	if strings.Join(got, " ") != want {
		t.Errorf("index groups %q, want %q", strings.Join(got, " "), want)
	}
	// index rows and sections in the same order: by cause, attention first
	rows := regexp.MustCompile(`<td class="num"><a href="#(conn-\d+)">`).FindAllStringSubmatch(page[index:first], -1)
	secs := regexp.MustCompile(`<section class="conn" id="(conn-\d+)" data-attention="(true|false)">\n(<details>)?`).FindAllStringSubmatch(page, -1)
	if len(rows) != len(conns) || len(secs) != len(conns) {
		t.Fatalf("%d index rows, %d sections, want %d", len(rows), len(secs), len(conns))
	}
	wantOrder := []int{3, 7, 5, 11, 8, 6, 2, 10, 4, 1, 9, 12}
	for i, n := range wantOrder {
		id := fmt.Sprintf("conn-%d", n)
		if rows[i][1] != id || secs[i][1] != id {
			t.Errorf("position %d: row %s, section %s, want %s", i, rows[i][1], secs[i][1], id)
		}
		open := secs[i][2] == "true"
		if open != needsAttention(conns[n-1]) || open == (secs[i][3] != "") {
			t.Errorf("%s: attention %s, folded %q", id, secs[i][2], secs[i][3])
		}
	}
	if !strings.Contains(page, `<td class="why">at risk: Azure LB/NAT 240 s</td>`) {
		t.Errorf("the ordinary exit at risk does not say why it needs attention:\n%s", page[index:first])
	}
}

// TestHTMLEscapes: what came from the wire is escaped in the index and
// summary too.
func TestHTMLEscapes(t *testing.T) {
	c := putty()
	c.Implementations[analyze.Client] = analyze.Implementation{Name: `<script>alert(1)</script>`, Version: `"><img src=x>`}
	var b bytes.Buffer
	if err := HTML(&b, analyze.Summary{Conns: []analyze.Conn{c}}, []string{"<b>.pcap"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img", "<b>.pcap"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("%q reaches the page unescaped", bad)
		}
	}
}
