package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sshalive/sshalive/analyze"
)

// The words for analyze's facts: evidence, notes, advice, mechanisms and
// timeline labels. Every English sentence of the output is made here or in
// text.go; analyze returns only facts.

func s1(d interface{ Seconds() float64 }) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// stallText says what became of a segment the peer never acknowledged.
func stallText(s analyze.Stall) string {
	if s.RST {
		return "answered by an RST"
	}
	t := fmt.Sprintf("retransmitted %d times, never acknowledged", s.Retrans)
	if s.Retrans > 0 {
		t += fmt.Sprintf(" (the last at %s)", shown(s.LastRetrans).Format("15:04:05.000"))
	}
	return t
}

// evidenceText words one observation of the end diagnosis.
func evidenceText(e analyze.Evidence) string {
	switch e.Kind {
	case analyze.EvLastFrom:
		return fmt.Sprintf("last packet from the %s", e.Who)
	case analyze.EvTCPProbesUnanswered:
		return fmt.Sprintf("first of %d TCP keepalives from the %s left unanswered", e.Count, e.Who)
	case analyze.EvKernelReset:
		return fmt.Sprintf("the %s resets the connection (RST): its kernel gave up", e.Who)
	case analyze.EvLastBeforeSilence:
		return fmt.Sprintf("last packet before a silence of %s (the longest silence before it, %s, was survived)", s1(e.Idle), s1(e.Survived))
	case analyze.EvFirstAfterSilence:
		return fmt.Sprintf("the %s's first segment after the silence: %s", e.Who, stallText(e.Stall))
	case analyze.EvPathWorked:
		return fmt.Sprintf("last packet from the %s: the path worked until then", e.Who)
	case analyze.EvStalled:
		if e.Stall.Probe {
			return fmt.Sprintf("the %s's keepalive probe: %s; later data and the FIN queue behind it, so CountMax cannot be read off the wire", e.Who, stallText(e.Stall))
		}
		return fmt.Sprintf("the %s's segment: %s; later data and the FIN queue behind it", e.Who, stallText(e.Stall))
	case analyze.EvLastProbeAnswered:
		return fmt.Sprintf("last probe from the %s answered", e.Who)
	case analyze.EvProbesUnanswered:
		return fmt.Sprintf("%d probes from the %s acknowledged by TCP but never answered: the peer's kernel is alive, its SSH process is not", e.Count, e.Who)
	case analyze.EvGivesUp:
		return fmt.Sprintf("the %s gives up and closes (%s)", e.Who, e.How)
	case analyze.EvCaptureEnded:
		return "last packet: the capture ended with the connection open"
	case analyze.EvServerAfterSilence:
		if e.AtLeast {
			return fmt.Sprintf("the server sends data after at least %s without input from the client (the silence began before the capture)", s1(e.Idle))
		}
		return fmt.Sprintf("the server sends data after %s without input from the client", s1(e.Idle))
	case analyze.EvCloses:
		return fmt.Sprintf("the %s closes (%s)", e.Who, e.How)
	case analyze.EvDataAfter:
		return fmt.Sprintf("the %s sends data after %s", e.Who, s1(e.Idle))
	case analyze.EvLastData:
		return "the last data either way: a silence follows"
	case analyze.EvServerCloses:
		what := "the server closes the session (exit status, EOF, CLOSE; no last message) after %s without input from the client"
		if e.AtLeast {
			what = "the server closes the session (exit status, EOF, CLOSE; no last message) after at least %s without input from the client"
		}
		return fmt.Sprintf(what, s1(e.Idle))
	case analyze.EvServerWasActive:
		return fmt.Sprintf("the server kept sending during the client's %s of silence, then closed the session", s1(e.Idle))
	case analyze.EvResetNoSign:
		return fmt.Sprintf("the %s resets the connection (RST) without a sign of why", e.Who)
	}
	return "unknown evidence"
}

// noteText words a note on the inferred settings.
func noteText(n analyze.Note) string {
	switch n.Kind {
	case analyze.NoteSSHD92:
		return fmt.Sprintf("%s probes every ~2×ClientAliveInterval (whole-second bug fixed in 9.5): a %d s period by its timer (the round trip to the reply aside) → ClientAliveInterval %d", clean(n.Software), n.Wire, n.Setting)
	case analyze.NoteServerUnknown:
		return fmt.Sprintf("server version unknown (no handshake): if it is sshd 9.2–9.4, which probes at twice the setting, ClientAliveInterval is %d", n.Setting)
	}
	return "unknown note"
}

func noteTexts(ns []analyze.Note) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, noteText(n))
	}
	return out
}

// adviceText says why a recommendation is made.
func adviceText(r analyze.Recommendation) string {
	switch r.Advice {
	case analyze.AdviceTMOUT:
		return "keepalives do not stop the server's own idle logout (a shell's TMOUT, or the remote command ending): if the logout is unwanted, raise or unset TMOUT on the server"
	case analyze.AdviceServerIdle:
		return "keepalives do not count as activity for the server's own idle timeout (Dropbear's -I, sshd's UnusedConnectionTimeout or ChannelTimeout): if the close is unwanted, raise that timeout on the server"
	case analyze.AdviceShortest:
		return fmt.Sprintf("probes every %d s stay under the shortest common idle timeout (Azure's 240 s)", r.Interval)
	case analyze.AdviceIdleDrop:
		return fmt.Sprintf("the path here forgot the connection after more than %s and less than %s idle: probes every %d s keep it", s1(r.Survived), s1(r.Fatal), r.Interval)
	case analyze.AdviceServer:
		s := "the same from the server, for every client"
		if r.SSHD92 && len(r.Settings) > 0 {
			s += fmt.Sprintf(" (this sshd, 9.2–9.4, probes at twice ClientAliveInterval: %d gives probes every ~%d s)", r.Settings[0].Value, r.Interval)
		}
		return s
	}
	return ""
}

// settingLines are a recommendation's configuration lines.
func settingLines(r analyze.Recommendation) []string {
	out := []string{}
	for _, s := range r.Settings {
		out = append(out, settingLine(s))
	}
	return out
}

// mechanismName names a keepalive mechanism by the setting behind it.
func mechanismName(m analyze.Mechanism) string {
	if m.TCP {
		return "TCP keepalive (" + m.Sender.String() + ")"
	}
	return m.Setting
}

// mechanismText names a keepalive mechanism inside a sentence's brackets:
// "client TCP keepalive" (mechanismName's "TCP keepalive (client)" is the
// JSON value, kept as it is).
func mechanismText(m analyze.Mechanism) string {
	if m.TCP {
		return m.Sender.String() + " TCP keepalive"
	}
	return m.Setting
}

// messageText words a keepalive message for a sentence.
func messageText(m analyze.Message) string {
	switch m {
	case analyze.MsgGlobalRequest:
		return "global request"
	case analyze.MsgGlobalRequestNoReply:
		return "global request with want_reply 0"
	case analyze.MsgChannelRequest:
		return "channel request"
	case analyze.MsgIgnore:
		return "SSH_MSG_IGNORE"
	}
	return "request"
}

// implText is "PuTTY 0.78", or "" when the banner was not captured; what
// the banner said is cleaned for the terminal.
func implText(i analyze.Implementation) string {
	if i.Version == "" {
		return clean(i.Name)
	}
	return clean(i.Name + " " + i.Version)
}

// settingLine is one setting as it is written where it goes.
func settingLine(s analyze.Setting) string {
	v := strconv.Itoa(s.Value)
	switch s.Implementation {
	case analyze.ImplDropbear:
		return s.Name + " " + v
	case analyze.ImplParamiko:
		return "transport.set_keepalive(" + v + ")"
	case analyze.ImplAsyncSSH:
		return "keepalive_interval=" + v
	case analyze.ImplLibssh2:
		return "libssh2_keepalive_config(session, 1, " + v + ")"
	case analyze.ImplLibssh, analyze.ImplGo:
		return "a keepalive request every " + v + " s"
	}
	return s.Name + " " + v
}

// labelText words a timeline label.
func labelText(l analyze.Label) string {
	switch l {
	case analyze.LabelNone:
		return ""
	case analyze.LabelSSHProbe:
		return "SSH keepalive probe"
	case analyze.LabelSSHProbeUnanswered:
		return "SSH keepalive probe (unanswered)"
	case analyze.LabelSSHReply:
		return "SSH keepalive reply"
	case analyze.LabelTCPProbe:
		return "TCP keepalive"
	case analyze.LabelTCPProbeUnanswered:
		return "TCP keepalive (unanswered)"
	case analyze.LabelTCPProbeAck:
		return "TCP keepalive ACK"
	case analyze.LabelWindowProbe:
		return "zero-window probe"
	case analyze.LabelRetransmission:
		return "retransmission"
	case analyze.LabelDuplicate:
		return "duplicate (the path or the capture doubled it)"
	}
	return "unknown"
}

// answeredCell is the answered column: "—" for keepalives that get no
// reply by design.
func answeredCell(k analyze.Keepalives) string {
	if k.Kind != analyze.KindTCP && !k.Message.ReplyExpected() {
		return "—"
	}
	return strconv.Itoa(k.Answered)
}

// softwareText names both ends' SSH software ("client PuTTY 0.78, server
// OpenSSH 9.2p1"), or says the banners were not captured.
func softwareText(c analyze.Conn) string {
	var parts []string
	for _, r := range []analyze.Role{analyze.Client, analyze.Server} {
		if t := implText(c.Implementations[r]); t != "" {
			parts = append(parts, r.String()+" "+t)
		}
	}
	if len(parts) == 0 {
		return "banners not captured"
	}
	return strings.Join(parts, ", ")
}
