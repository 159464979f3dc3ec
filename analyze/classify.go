package analyze

import (
	"slices"
	"time"
)

// Keepalive classification: which of a sender's probe candidates are SSH
// keepalive probes, and the statistics of those and of its TCP keepalives.

// accepted is a candidate judged to be a keepalive probe.
type accepted struct {
	sshCand
	kind ProbeKind
	msg  Message
}

// Detection modes: how a sender's probes were recognised.
const (
	modeHandshake  = "handshake"  // exact sizes from the negotiated cipher
	modePattern    = "pattern"    // no handshake: recurring size pairs and timing
	modeCompressed = "compressed" // compression on: sizes learned from the recurring probes
)

// sshKeepalives decides which of d's candidates are keepalive probes.
//
// With the handshake captured, sizes are exact: a probe has the size of a
// keepalive message d's implementation sends under the negotiated cipher,
// and its reply (if any) the size of the matching failure message; a
// message that has no reply by design counts only on a clockwork schedule.
// Under compression the sizes are learned from the probes that recur after
// silences. Without a handshake, a (probe, reply) size pair must be one
// some known cipher produces, and recur: one match alone is not evidence.
func (f *flow) sshKeepalives(d Role) []Keepalives {
	cands := f.cands.list[d]
	if len(cands) == 0 {
		return nil
	}
	var acc []accepted
	var answered map[int]bool
	mode := modeHandshake
	switch {
	case f.ssh.exactKnown():
		sh := f.ssh.shapes[d]
		acc, answered = byHandshake(cands, sh, f.ssh.specs[d.Peer()], fixedSchedule(f.ssh.impl[d]))
		acc = append(acc, byClockwork(cands, sh, f.ssh.specs[d], f.ssh.impl[d])...)
		slices.SortStableFunc(acc, func(a, b accepted) int { return a.at.Compare(b.at) })
	case f.ssh.compressedKnown():
		mode = modeCompressed
		if onlyRequest(f.ssh.shapes[d]) != MsgUnknown || !f.ssh.noReplyKeepalive(d) {
			ws := f.ssh.impl[d] == ImplDropbear || f.ssh.impl[d] == ImplOpenSSH || f.ssh.impl[d] == ""
			acc, answered = byCompression(cands, f.ssh.shapes[d], f.ssh.specs[d.Peer()].WireSize(payloadChannelData1), f.tcp.end.At, ws)
		}
		if f.ssh.noReplyKeepalive(d) {
			acc = append(acc, byLearnedClockwork(cands, f.ssh.shapes[d])...)
			slices.SortStableFunc(acc, func(a, b accepted) int { return a.at.Compare(b.at) })
		}
	default:
		mode = modePattern
		acc, answered = byPattern(cands)
		if sp, ok := impliedSpec(acc); ok {
			f.implied = sp
		}
	}
	acc = withEvidence(acc, answered)
	if len(acc) == 0 {
		return nil
	}
	var out []Keepalives
	for _, g := range bySize(acc) {
		out = append(out, f.keepaliveStats(d, g, mode))
	}
	return out
}

// fixedSchedule reports whether impl sends keepalives on a schedule of its
// own (a ticker), not after a silence: its answered probes need no quiet
// before them.
func fixedSchedule(impl string) bool {
	return impl == ImplGo || impl == ImplLibssh || impl == ImplLibssh2 || impl == ImplPuTTY
}

// byHandshake accepts the candidates whose sizes are exactly a want-reply
// probe's (and its reply's) under the negotiated ciphers. It also returns
// the probe sizes the sender had answered. With ticker, an answered probe
// counts whatever came before it.
func byHandshake(cands []sshCand, sh []keepaliveShape, recv CipherSpec, ticker bool) ([]accepted, map[int]bool) {
	acc := make([]accepted, 0, len(cands))
	answered := map[int]bool{}
	quiet, soonest := quietSizes(cands)
	for _, c := range cands {
		gr, co := coalescedWith(c, sh, recv)
		if !quiet[c.size] && !co {
			continue
		}
		if quiet[c.size] && c.idle != unknownIdle && c.idle < minIdle && c.idle < soonest[c.size] && !(ticker && c.answered) {
			continue
		}
		var msgs []Message
		for _, s := range sh {
			if s.reply > 0 && s.probe == c.size && (!c.answered || s.reply == c.replySize) && !slices.Contains(msgs, s.msg) {
				msgs = append(msgs, s.msg)
			}
		}
		if len(msgs) == 0 && co {
			c.size = gr.probe // counted with the probes it is one of
			msgs = append(msgs, MsgGlobalRequest)
		}
		switch len(msgs) {
		case 0:
			continue
		case 1:
			acc = append(acc, accepted{c, kindOfMsg(msgs[0]), msgs[0]})
		default:
			acc = append(acc, accepted{c, KindSSHUnknown, MsgUnknown})
		}
		if c.answered {
			answered[c.size] = true
		}
	}
	return acc, answered
}

// coalescedWith finds the global-request shape c is coalesced with, if any.
func coalescedWith(c sshCand, sh []keepaliveShape, recv CipherSpec) (keepaliveShape, bool) {
	for _, s := range sh {
		if coalesced(c, s, recv) {
			return s, true
		}
	}
	return keepaliveShape{}, false
}

// quietSizes finds the probe sizes seen after a silence. A probe that came
// soon after traffic (ssh's whole-second timer) counts only beside one of
// the same size that followed a silence: session setup has request/reply
// pairs of these sizes too. A probe TCP had to retransmit after a silence
// is one too (the path died under it), answered or not.
//
// soonest bounds how soon after the peer's last data a probe of each size
// may come: more than period-1 s, and the earliest quiet probe of a size is
// at most period s. A shell prompt of probe size right after a command,
// answered by a keystroke of the failure message's size, is not a probe.
func quietSizes(cands []sshCand) (quiet map[int]bool, soonest map[int]time.Duration) {
	quiet, soonest = map[int]bool{}, map[int]time.Duration{}
	for _, c := range cands {
		if (c.answered || c.retrans > 0) && (c.idle == unknownIdle || c.idle >= minIdle) {
			quiet[c.size] = true
			if s, ok := soonest[c.size]; c.idle != unknownIdle && (!ok || c.idle-time.Second-100*time.Millisecond < s) {
				soonest[c.size] = c.idle - time.Second - 100*time.Millisecond
			}
		}
	}
	return quiet, soonest
}

// byPattern accepts, without a handshake, the candidates of a (probe,
// reply) size pair some known cipher produces that recurs. A pair qualifies
// by its members that followed a silence (the keepalive timer's signature);
// once it does, its early members (ssh schedules in whole seconds, so a
// probe can come well under the interval after traffic) count too.
func byPattern(cands []sshCand) ([]accepted, map[int]bool) {
	type pair struct{ probe, reply int }
	count := map[pair]int{}
	for _, c := range cands {
		if c.answered && (c.idle == unknownIdle || c.idle >= minIdle) {
			if _, ok := anyShape(c.size, c.replySize); ok {
				count[pair{c.size, c.replySize}]++
			}
		}
	}
	probeOK := map[int]Message{}
	for p, n := range count {
		if n >= 2 {
			sh, _ := anyShape(p.probe, p.reply)
			probeOK[p.probe] = sh.msg
		}
	}
	var acc []accepted
	answered := map[int]bool{}
	for _, c := range cands {
		msg, ok := probeOK[c.size]
		if !ok || c.answered && count[pair{c.size, c.replySize}] < 2 ||
			!c.answered && c.idle != unknownIdle && c.idle < minIdle {
			continue
		}
		acc = append(acc, accepted{c, kindOfMsg(msg), msg})
		answered[c.size] = true
	}
	return acc, answered
}

// impliedSpec is the cipher the accepted pattern's (probe, reply) sizes
// point to, when every known cipher producing them gives the session-closing
// messages the same sizes. 3des-cbc is set aside when a current cipher
// explains the sizes.
func impliedSpec(acc []accepted) (CipherSpec, bool) {
	for _, a := range acc {
		if !a.answered {
			continue
		}
		var match []CipherSpec
		for _, s := range knownSpecs {
			if sh := shapes(s, s); sh[0].probe == a.size && sh[0].reply == a.replySize || sh[1].probe == a.size && sh[1].reply == a.replySize {
				match = append(match, s)
			}
		}
		if current := slices.DeleteFunc(slices.Clone(match), func(s CipherSpec) bool { return s.Cipher == "3des-cbc" }); len(current) > 0 {
			match = current
		}
		for _, s := range match {
			if s.WireSize(payloadExitStatus) != match[0].WireSize(payloadExitStatus) || s.WireSize(payloadChannelEOF) != match[0].WireSize(payloadChannelEOF) {
				return CipherSpec{}, false
			}
		}
		if len(match) == 0 {
			return CipherSpec{}, false
		}
		return match[0], true
	}
	return CipherSpec{}, false
}

// withEvidence drops the unanswered want-reply probe-sized segments that
// lack more evidence: the sender's earlier probes of that size were
// answered, and it sent nothing else right after (an exit-status is
// followed by EOF and CLOSE) or TCP had to retransmit it (the path died
// under it). A lone server message after a pause (a password-guess failure,
// say) can have a probe's size; so can a command typed into a NAT that
// forgot the connection: a sender's first probe, lost with the path, cannot
// be told from it and is not counted. Messages without a reply by design
// passed their own test.
func withEvidence(acc []accepted, answered map[int]bool) []accepted {
	kept := acc[:0]
	for _, a := range acc {
		if a.answered || !a.msg.ReplyExpected() || answered[a.size] && (!a.crowded || a.pending || a.retrans > 0) {
			kept = append(kept, a)
		}
	}
	return kept
}

// bySize groups the probes by size (normally one group per sender, which
// is then acc itself).
func bySize(acc []accepted) [][]accepted {
	if slices.IndexFunc(acc, func(a accepted) bool { return a.size != acc[0].size }) < 0 {
		return [][]accepted{acc}
	}
	idx := map[int]int{}
	var groups [][]accepted
	for _, a := range acc {
		i, ok := idx[a.size]
		if !ok {
			i = len(groups)
			idx[a.size] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], a)
	}
	return groups
}

// kindOfMsg is the JSON "kind" of a message (the contract's first
// vocabulary: global-request, channel-request, ssh).
func kindOfMsg(m Message) ProbeKind {
	switch m {
	case MsgGlobalRequest, MsgGlobalRequestNoReply:
		return KindGlobalRequest
	case MsgChannelRequest:
		return KindChannelRequest
	}
	return KindSSHUnknown
}

// keepaliveStats summarises one group of d's probes and labels them in the
// activity sketch and the timeline.
func (f *flow) keepaliveStats(d Role, g []accepted, mode string) Keepalives {
	k := Keepalives{Sender: d, Kind: g[0].kind, Message: g[0].msg, Probes: len(g), ProbeBytes: g[0].size, Mode: mode,
		First: g[0].at, Last: g[len(g)-1].at}
	var intervals, idles, lat []time.Duration
	replies := map[int]int{}
	for i, a := range g {
		if a.kind != k.Kind {
			k.Kind = KindSSHUnknown
		}
		if a.msg != k.Message {
			k.Message = MsgUnknown
		}
		if i > 0 {
			intervals = append(intervals, since(a.at, g[i-1].at))
		}
		if a.idle != unknownIdle {
			idles = append(idles, a.idle)
		}
		k.tally(a.at, a.answered, a.pending)
		if a.answered {
			replies[a.replySize]++
			lat = append(lat, a.latency)
		}
		f.markProbe(d, a.sshCand, a.msg.ReplyExpected())
	}
	for size, n := range replies {
		if n > replies[k.ReplyBytes] || n == replies[k.ReplyBytes] && size < k.ReplyBytes {
			k.ReplyBytes = size
		}
	}
	k.Interval, k.IdleBefore, k.ReplyLatency = newStats(intervals), newStats(idles), newStats(lat)
	k.TimerSeconds = timerSeconds(pathCorrected(idles, f.tcp.rtt(), k.ReplyLatency), d)
	return k
}

// pathCorrected takes off each silence the part of the round trip the
// capture point adds: a capture beside the peer sees the reply leave at
// once (reply latency ~0) and the silence before the next probe longer by
// the round trip than the prober's timer saw it; beside the prober, the
// latency is the round trip and nothing is added. Below 10 ms it is left
// alone.
func pathCorrected(idles []time.Duration, rtt time.Duration, lat Stats) []time.Duration {
	add := rtt - lat.Median
	if lat.N == 0 || add < 10*time.Millisecond {
		return idles
	}
	out := make([]time.Duration, len(idles))
	for i, d := range idles {
		out[i] = max(0, d-add)
	}
	return out
}

// markProbe labels an SSH probe (and its reply) in the sketch and timeline;
// one without a reply by design is no unanswered probe.
func (f *flow) markProbe(d Role, c sshCand, replyExpected bool) {
	if c.answered || c.pending || !replyExpected {
		f.tl.label(c.probeEv, LabelSSHProbe)
		f.tl.label(c.replyEv, LabelSSHReply)
		f.activity.add(c.at, MarkProbe<<d)
		return
	}
	f.tl.label(c.probeEv, LabelSSHProbeUnanswered)
	f.activity.add(c.at, MarkProbe<<d|MarkUnanswered)
}

// tcpKeepalives summarises d's TCP keepalives.
func (f *flow) tcpKeepalives(d Role) (Keepalives, bool) {
	ps := f.tcpProbe[d]
	if len(ps) == 0 {
		return Keepalives{}, false
	}
	k := Keepalives{Sender: d, Kind: KindTCP, Probes: len(ps), First: ps[0].at, Last: ps[len(ps)-1].at}
	var intervals, idles, afterAnswered, afterUnanswered []time.Duration
	sizes := map[int]int{}
	for i, p := range ps {
		sizes[p.bytes]++
		if i > 0 {
			gap := since(p.at, ps[i-1].at)
			intervals = append(intervals, gap)
			if ps[i-1].answered {
				afterAnswered = append(afterAnswered, gap)
			} else {
				afterUnanswered = append(afterUnanswered, gap)
			}
		}
		idles = append(idles, p.idle)
		k.tally(p.at, p.answered, false)
		if p.answered {
			f.tl.label(p.ev, LabelTCPProbe)
			f.activity.add(p.at, MarkTCPProbe<<d)
		} else {
			f.tl.label(p.ev, LabelTCPProbeUnanswered)
			f.activity.add(p.at, MarkTCPProbe<<d|MarkUnanswered)
		}
	}
	if sizes[1] > sizes[0] {
		k.ProbeBytes = 1
	}
	k.Interval, k.IdleBefore = newStats(intervals), newStats(idles)
	k.Period, k.Retry = newStats(afterAnswered).Median, newStats(afterUnanswered).Median
	return k, true
}
