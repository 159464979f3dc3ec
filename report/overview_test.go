package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// quietConn is a session without keepalives that was never silent long.
func quietConn(idle time.Duration, cause analyze.Cause) analyze.Conn {
	c := putty()
	c.SSH, c.Inferred = nil, analyze.Inferred{}
	c.End = analyze.End{How: "fin", By: analyze.Client, Cause: cause, Actor: analyze.Client, At: c.LastSeen}
	c.Risk = analyze.Risk{LongestIdle: idle, NoKeepalive: true, DroppedBy: analyze.Middleboxes()}
	return c
}

// TestAttention: what needs attention, and what does not.
func TestAttention(t *testing.T) {
	unanswered := putty()
	unanswered.SSH[0].LongestUnanswered = 2
	unanswered.SSH[0].Message = analyze.MsgGlobalRequest // an IGNORE asks for no reply: it cannot go unanswered
	unanswered.SSH[0].Answered = unanswered.SSH[0].Probes - 2
	reset := quietConn(10*time.Second, analyze.CauseUnknown)
	reset.End.How = "rst"
	slow := putty()
	slow.Risk.EffectiveKeepalive = 300 * time.Second
	notSSH := quietConn(400*time.Second, analyze.CauseUserExit)
	notSSH.NotSSH = true
	tests := []struct {
		name string
		c    analyze.Conn
		want Problem
	}{
		{"keepalives every 2 s, open", putty(), NoProblem},
		{"quiet session", quietConn(100*time.Second, analyze.CauseUserExit), NoProblem},
		{"no keepalives, 250 s of silence", quietConn(250*time.Second, analyze.CauseUserExit), AtRisk},
		{"keepalives every 300 s", slow, AtRisk},
		{"unanswered probes", unanswered, Unanswered},
		{"idle drop", quietConn(10*time.Second, analyze.CauseIdleDrop), EndedBadly},
		{"dead path", quietConn(10*time.Second, analyze.CauseDeadPath), EndedBadly},
		{"keepalive timeout", quietConn(10*time.Second, analyze.CauseKeepaliveTimeout), EndedBadly},
		{"TCP keepalive timeout", quietConn(10*time.Second, analyze.CauseTCPKeepaliveTimeout), EndedBadly},
		{"idle logout", quietConn(10*time.Second, analyze.CauseIdleLogout), NoProblem},
		{"reset without a sign of why", reset, NoProblem},
		{"not SSH", notSSH, NoProblem},
	}
	for _, tt := range tests {
		if got := attention(tt.c); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestRiskWording: the risk line says what would drop the session after
// how long idle, and where the path carried a longer silence, that no such
// box is on it; never "dropped by" for a session that was not.
func TestRiskWording(t *testing.T) {
	tests := []struct {
		name string
		c    analyze.Conn
		want string
	}{
		{"quiet", quietConn(168*time.Second, analyze.CauseUserExit),
			"risk: no keepalives (at best TCPKeepAlive protects it: first probe after 2 h, if enabled), longest silence 168.0 s: an idle period of ≥ 240 s would be dropped by Azure LB/NAT, one of ≥ 3600 s by every common middlebox"},
		{"survived 400 s", quietConn(400*time.Second, analyze.CauseUserExit),
			"risk: no keepalives (at best TCPKeepAlive protects it: first probe after 2 h, if enabled), longest silence 400.0 s: an idle period of ≥ 240 s would be dropped by Azure LB/NAT, one of ≥ 3600 s by every common middlebox; this path carried a 400.0 s silence, so none of those up to 400.0 s is on it"},
	}
	slow := putty()
	slow.Risk = analyze.Risk{LongestIdle: 301 * time.Second, EffectiveKeepalive: 300 * time.Second,
		EffectiveBy: analyze.Mechanism{TCP: true, Sender: analyze.Server}, DroppedBy: analyze.Middleboxes()[:2]}
	tests = append(tests, struct {
		name string
		c    analyze.Conn
		want string
	}{"slow TCP keepalive, open", slow,
		"risk: keepalives every 300.0 s (server TCP keepalive), longest silence 301.0 s: an idle period of ≥ 240 s would be dropped by Azure LB/NAT (240 s), AWS NAT/NLB (350 s); this path carried a 301.0 s silence, so none of those up to 301.0 s is on it"})
	for _, tt := range tests {
		if got := riskSentence(tt.c); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestNumbers: one precision per cell, no rollover to a longer form.
func TestNumbers(t *testing.T) {
	for d, want := range map[time.Duration]string{
		9998 * time.Millisecond: "10.0", 9940 * time.Millisecond: "9.94", 9960 * time.Millisecond: "9.96", 999600 * time.Microsecond: "1.00",
		994 * time.Millisecond: "0.994", 20 * time.Second: "20.0"} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %s, want %s", d, got, want)
		}
	}
	if got := strings.Join(secondsAlike(10*time.Second, 9998*time.Millisecond, 10*time.Second), " "); got != "10.0 10.0 10.0" {
		t.Errorf("secondsAlike: %s", got)
	}
	if got := plural(1, "open connection"); got != "1 open connection" {
		t.Error(got)
	}
}

// TestASCIIWriter: every character is ASCII, also when a write splits one.
func TestASCIIWriter(t *testing.T) {
	var b bytes.Buffer
	w := ASCII(&b)
	in := []byte("┌─┐ a → b – c ≥ 240 s … ▕#·k▏ é\n")
	for i := range in { // one byte at a time
		if _, err := w.Write(in[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := b.String(), "+-+ a -> b - c >= 240 s ... |#.k| ?\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, true},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LANG": "de_DE.utf8"}, true},
		{map[string]string{"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}, false},
		{map[string]string{"LC_CTYPE": "C.UTF-8", "LANG": "C"}, true},
		{map[string]string{"LANG": "de_DE.ISO-8859-1"}, false},
	} {
		if got := UTF8Locale(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: UTF-8 %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestNotSSHText: a connection that is not SSH is said so, with its port,
// and gets no SSH verdict, in the detail and in the overview's line.
func TestNotSSHText(t *testing.T) {
	c := quietConn(400*time.Second, analyze.CauseUserExit)
	c.NotSSH = true
	c.Server = netip.AddrPortFrom(c.Server.Addr(), 28080)
	got := strings.Join(Sentences(c), "\n")
	if got != "port 28080: not SSH (the client's first line is no SSH banner, and the server sent none): no SSH verdicts" {
		t.Errorf("sentences: %s", got)
	}
	var b bytes.Buffer
	if err := connDetail(&b, c, false); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "port 28080: not SSH") || strings.Contains(out, "risk") || strings.Contains(out, "recommended") {
		t.Errorf("detail:\n%s", out)
	}
	if attention(c) != NoProblem || softwareShort(c) != "not SSH" {
		t.Errorf("overview: attention %d, software %q", attention(c), softwareShort(c))
	}
}
