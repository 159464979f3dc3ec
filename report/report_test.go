package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// putty is a PuTTY client sending SSH_MSG_IGNORE every 2 s to an OpenSSH
// server, the session still open.
func putty() analyze.Conn {
	return analyze.Conn{
		Client: netip.MustParseAddrPort("198.18.0.1:40000"), Server: netip.MustParseAddrPort("198.18.0.2:22"),
		FirstSeen: t0, LastSeen: t0.Add(11 * time.Second), Packets: 40, Handshake: true,
		Banners:         [2]string{"SSH-2.0-PuTTY_Release_0.78", "SSH-2.0-OpenSSH_9.2p1"},
		Implementations: [2]analyze.Implementation{{Name: analyze.ImplPuTTY, Version: "0.78"}, {Name: analyze.ImplOpenSSH, Version: "9.2p1"}},
		SSH: []analyze.Keepalives{{Sender: analyze.Client, Kind: analyze.KindSSHUnknown, Message: analyze.MsgIgnore, Probes: 5, ProbeBytes: 48,
			First: t0.Add(2 * time.Second), Last: t0.Add(10 * time.Second),
			Interval: analyze.Stats{N: 4, Median: 2 * time.Second, P25: 2 * time.Second, P75: 2 * time.Second, Min: 2 * time.Second, Max: 2 * time.Second}}},
		End: analyze.End{How: "open", Cause: analyze.CauseOpen, At: t0.Add(11 * time.Second)},
		Inferred: analyze.Inferred{Settings: []analyze.Setting{{Side: analyze.Client, Implementation: analyze.ImplPuTTY,
			Name: "PingIntervalSecs", Value: 2, Evidence: analyze.EvidenceInterval}}},
		Risk: analyze.Risk{LongestIdle: 2 * time.Second, EffectiveKeepalive: 2 * time.Second,
			EffectiveBy: analyze.Mechanism{Sender: analyze.Client, Setting: "PingIntervalSecs"}},
	}
}

// TestSentencesNoReply: a keepalive without a reply by design is said so,
// with the implementation and its own setting, never "none answered".
func TestSentencesNoReply(t *testing.T) {
	s := Sentences(putty())
	want := "client 198.18.0.1:40000 (PuTTY 0.78) sends SSH keepalives every 2.00 s (48-byte SSH_MSG_IGNORE, no reply by design) → PingIntervalSecs 2"
	if s[0] != want {
		t.Errorf("got  %q\nwant %q", s[0], want)
	}
	if joined := strings.Join(s, "\n"); strings.Contains(joined, "none answered") || strings.Contains(joined, "ServerAliveInterval") {
		t.Errorf("sentences speak of replies or of OpenSSH's setting:\n%s", joined)
	}
}

// TestConnJSON: the fields added for implementations and messages.
func TestConnJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteConn(&b, putty()); err != nil {
		t.Fatal(err)
	}
	var j JSONConn
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	k := j.SSHKeepalives[0]
	if j.ClientImplementation == nil || j.ClientImplementation.Name != "PuTTY" || j.ClientImplementation.Version != "0.78" ||
		k.Message != "ignore" || k.ReplyExpected || len(j.Inferred.Settings) != 1 || j.Inferred.Settings[0].Name != "PingIntervalSecs" ||
		j.Inferred.Settings[0].Evidence != "probe-interval" || j.Risk.EffectiveBy != "PingIntervalSecs" {
		t.Errorf("%s", b.String())
	}
	for _, f := range []string{`"client_implementation":{`, `"message":"ignore"`, `"reply_expected":false`, `"settings":[{`} {
		if !bytes.Contains(b.Bytes(), []byte(f)) {
			t.Errorf("no %s in %s", f, b.String())
		}
	}
}

// TestSettingLine: each implementation's setting as it is written where
// it goes.
func TestSettingLine(t *testing.T) {
	for _, tt := range []struct {
		impl, name, want string
	}{
		{analyze.ImplOpenSSH, "ServerAliveInterval", "ServerAliveInterval 60"},
		{analyze.ImplPuTTY, "PingIntervalSecs", "PingIntervalSecs 60"},
		{analyze.ImplDropbear, "-K", "-K 60"},
		{analyze.ImplParamiko, "Transport.set_keepalive", "transport.set_keepalive(60)"},
		{analyze.ImplAsyncSSH, "keepalive_interval", "keepalive_interval=60"},
		{analyze.ImplLibssh2, "libssh2_keepalive_config", "libssh2_keepalive_config(session, 1, 60)"},
		{analyze.ImplGo, "SendRequest timer", "a keepalive request every 60 s"},
	} {
		if got := settingLine(analyze.Setting{Implementation: tt.impl, Name: tt.name, Value: 60}); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.impl, got, tt.want)
		}
	}
}

// TestEvidenceWords: every kind of evidence has words.
func TestEvidenceWords(t *testing.T) {
	for k := analyze.EvLastFrom; k <= analyze.EvServerWasActive; k++ {
		if s := evidenceText(analyze.Evidence{Kind: k}); s == "" || s == "unknown evidence" {
			t.Errorf("evidence kind %d has no words", k)
		}
	}
	for _, a := range []analyze.Advice{analyze.AdviceTMOUT, analyze.AdviceShortest, analyze.AdviceIdleDrop, analyze.AdviceServer, analyze.AdviceServerIdle} {
		if adviceText(analyze.Recommendation{Advice: a}) == "" {
			t.Errorf("advice %d has no words", a)
		}
	}
}

// TestCleanWireStrings: what a banner or an algorithm name carries never
// reaches the terminal raw: escapes, bidi overrides, backspaces, NUL and
// invalid UTF-8 are written visibly, in the table, the sentences and HTML.
func TestCleanWireStrings(t *testing.T) {
	for in, want := range map[string]string{
		"OpenSSH_9.2p1":                "OpenSSH_9.2p1",
		"x\x1b]0;pwned\x07":            `x\x1b]0;pwned\x07`,
		"a\u202eb":                     `a\u202eb`,
		"back\bspace\x00nul":           `back\x08space\x00nul`,
		"bad\xffutf8":                  `bad\xffutf8`,
		`forged \x1b`:                  `forged \\x1b`,
		"clear\x1b[2J\x1b[H":           `clear\x1b[2J\x1b[H`,
		"üñíçødé ok":                   "üñíçødé ok",
		"zero\u200bwidth\u2066isolate": `zero\u200bwidth\u2066isolate`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	c := putty()
	evil := "SSH-2.0-PuTTY_Release_0.78\x1b]0;owned\x07\u202e"
	c.Banners[analyze.Client] = evil
	c.Implementations[analyze.Client].Version = "0.78\x1b]0;owned\x07\u202e"
	var table, page bytes.Buffer
	if err := Table(&table, analyze.Summary{Conns: []analyze.Conn{c}}); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&page, analyze.Summary{Conns: []analyze.Conn{c}}, nil); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"table": table.String(), "html": page.String()} {
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%s output carries a raw control character from the wire", name)
		}
	}
}

// TestFarTimes: a timestamp near 2^63 ns (a pcapng's) is clamped into RFC
// 3339's years instead of printing year 586524.
func TestFarTimes(t *testing.T) {
	for _, at := range []time.Time{time.Unix(1<<62, 0), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)} {
		b, err := jsonTime(at).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back jsonTime
		if err := back.UnmarshalJSON(b); err != nil {
			t.Errorf("%s is no RFC 3339 time: %v", b, err)
		}
	}
}

// TestInterimCounts: an interim report counts as open only connections not
// yet ended (the table still holds closed ones for their last packets), and
// a snapshot's open connection is "open", not "still open when the capture
// ended".
func TestInterimCounts(t *testing.T) {
	open := putty()
	open.Snapshot = true
	closed := putty()
	closed.Snapshot = true
	closed.End = analyze.End{How: "fin", By: analyze.Client, Cause: analyze.CauseUserExit, Actor: analyze.Client, At: t0.Add(11 * time.Second)}
	var b bytes.Buffer
	if err := WriteInterim(&b, t0.Add(12*time.Second), []analyze.Conn{open, closed}, 3, 100); err != nil {
		t.Fatal(err)
	}
	var head JSONInterim
	if err := json.Unmarshal(bytes.SplitN(b.Bytes(), []byte("\n"), 2)[0], &head); err != nil {
		t.Fatal(err)
	}
	if head.Open != 1 || head.Ended != 4 {
		t.Errorf("interim open %d, ended %d; want 1 and 4", head.Open, head.Ended)
	}
	if s := endSentence(open); !strings.HasPrefix(s, "open (last packet") {
		t.Errorf("snapshot sentence %q", s)
	}
}
