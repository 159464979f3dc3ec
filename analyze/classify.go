package analyze

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// summarise settles the connection's candidates and returns its summary;
// ok is false for a connection that never carried data nor a keepalive.
func (f *flow) summarise() (Conn, bool) {
	if !f.carried() && f.synSeen {
		return Conn{}, false
	}
	for _, d := range []Role{Client, Server} {
		if f.hasPd[d] {
			f.settle(d, f.pend[d])
			f.hasPd[d] = false
		}
	}
	c := Conn{
		Client: f.client, Server: f.server,
		FirstSeen: f.first, LastSeen: f.last,
		Packets: f.packets, Handshake: f.synSeen,
		End:         f.end,
		LongestIdle: f.longestIdle,
	}
	if c.End.How == "" {
		c.End = End{How: "open", At: f.last}
	}
	for d := range f.hs {
		c.Banners[d] = f.hs[d].banner.String()
	}
	f.exactKnown()
	c.Ciphers, c.CipherKnown = f.specs, f.specOK
	for _, d := range []Role{Client, Server} {
		c.SSH = append(c.SSH, f.sshKeepalives(d, c.Ciphers, c.CipherKnown)...)
		if k, ok := f.tcpKeepalives(d); ok {
			c.TCP = append(c.TCP, k)
		}
	}
	c.Inferred = f.infer(&c)
	c.End = f.diagnose(&c)
	c.Risk = risk(&c)
	major, minor, isOpenSSH := f.hs[Server].banner.OpenSSHVersion()
	c.Recommendations = recommend(&c, isOpenSSH && major == 9 && minor >= 2 && minor <= 4)
	c.Activity = f.activity
	c.Activity.mark(&c)
	c.Events, c.EventsDropped = f.timeline()
	return c, true
}

// accepted is a candidate judged to be a keepalive probe.
type accepted struct {
	sshCand
	kind ProbeKind
}

// sshKeepalives decides which of d's candidates are keepalive probes.
//
// With the handshake captured, sizes are exact: a probe has the size of a
// keepalive request under the negotiated cipher, and its reply (if any) the
// size of the matching failure message. Without it, a (probe, reply) size
// pair must be one some known cipher produces, and recur: one match alone
// is not evidence.
func (f *flow) sshKeepalives(d Role, ciphers [2]CipherSpec, known [2]bool) []Keepalives {
	cands := f.cands[d]
	if len(cands) == 0 {
		return nil
	}
	acc := make([]accepted, 0, len(cands))
	answeredSize := map[int]bool{} // probe sizes this sender had answered
	mode := "handshake"
	if known[d] && known[d.Peer()] {
		sh := shapes(ciphers[d], ciphers[d.Peer()])
		// A probe that came soon after traffic (ssh's whole-second timer)
		// counts only beside one of the same size that followed a silence:
		// session setup has request/reply pairs of these sizes too.
		// A probe TCP had to retransmit after a silence is one too (the
		// path died under it), answered or not.
		quiet := map[int]bool{}
		// A probe comes no sooner after the peer's last data than the
		// whole-second timer allows: more than period-1 s, and the earliest
		// quiet probe of a size is at most period s. A shell prompt of
		// probe size right after a command, answered by a keystroke of the
		// failure message's size, is not a probe.
		soonest := map[int]time.Duration{}
		for _, c := range cands {
			if (c.answered || c.retrans > 0) && (c.idle == unknownIdle || c.idle >= minIdle) {
				quiet[c.size] = true
				if s, ok := soonest[c.size]; c.idle != unknownIdle && (!ok || c.idle-time.Second-100*time.Millisecond < s) {
					soonest[c.size] = c.idle - time.Second - 100*time.Millisecond
				}
			}
		}
		for _, c := range cands {
			if !quiet[c.size] && !coalesced(c, sh, ciphers[d.Peer()]) {
				continue
			}
			if quiet[c.size] && c.idle != unknownIdle && c.idle < minIdle && c.idle < soonest[c.size] {
				continue
			}
			var kinds []ProbeKind
			for _, s := range sh {
				if s.probe == c.size && (!c.answered || s.reply == c.replySize) {
					kinds = append(kinds, kindOf(s))
				}
			}
			if len(kinds) == 0 && coalesced(c, sh, ciphers[d.Peer()]) {
				c.size = sh[0].probe // counted with the probes it is one of
				kinds = append(kinds, KindGlobalRequest)
			}
			switch len(kinds) {
			case 1:
				acc = append(acc, accepted{c, kinds[0]})
			case 2:
				acc = append(acc, accepted{c, KindSSHUnknown})
			}
			if len(kinds) > 0 && c.answered {
				answeredSize[c.size] = true
			}
		}
	} else {
		mode = "pattern"
		type pair struct{ probe, reply int }
		count := map[pair]int{}
		// A pair qualifies by its members that followed a silence (the
		// keepalive timer's signature); once it does, its early members (ssh
		// schedules in whole seconds, so a probe can come well under the
		// interval after traffic) count too.
		for _, c := range cands {
			if c.answered && (c.idle == unknownIdle || c.idle >= minIdle) {
				if _, ok := anyShape(c.size, c.replySize); ok {
					count[pair{c.size, c.replySize}]++
				}
			}
		}
		probeOK := map[int]ProbeKind{}
		for p, n := range count {
			if n >= 2 {
				sh, _ := anyShape(p.probe, p.reply)
				probeOK[p.probe] = kindOf(sh)
			}
		}
		for _, c := range cands {
			kind, ok := probeOK[c.size]
			if !ok || c.answered && count[pair{c.size, c.replySize}] < 2 ||
				!c.answered && c.idle != unknownIdle && c.idle < minIdle {
				continue
			}
			acc = append(acc, accepted{c, kind})
			answeredSize[c.size] = true
		}
	}
	// An unanswered probe-sized segment is a probe only with more evidence:
	// the sender's earlier probes of that size were answered, or TCP had to
	// retransmit it (the path died under it). A lone server message after a
	// pause (a password-guess failure, say) can have a probe's size.
	kept := acc[:0]
	for _, a := range acc {
		if a.answered || answeredSize[a.size] || a.retrans > 0 {
			kept = append(kept, a)
		}
	}
	acc = kept
	if len(acc) == 0 {
		return nil
	}
	// One entry per probe size (normally one per sender, so usually acc
	// is the one group as it stands).
	var out []Keepalives
	if slices.IndexFunc(acc, func(a accepted) bool { return a.size != acc[0].size }) < 0 {
		return append(out, f.keepaliveStats(d, acc, mode))
	}
	bySize := map[int]int{}
	var groups [][]accepted
	for _, a := range acc {
		i, ok := bySize[a.size]
		if !ok {
			i = len(groups)
			bySize[a.size] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], a)
	}
	for _, g := range groups {
		out = append(out, f.keepaliveStats(d, g, mode))
	}
	return out
}

func kindOf(s keepaliveShape) ProbeKind {
	if s.channel {
		return KindChannelRequest
	}
	return KindGlobalRequest
}

func (f *flow) keepaliveStats(d Role, g []accepted, mode string) Keepalives {
	k := Keepalives{Sender: d, Kind: g[0].kind, Probes: len(g), ProbeBytes: g[0].size, Mode: mode,
		First: g[0].at, Last: g[len(g)-1].at}
	var intervals, idles, lat []time.Duration
	replies := map[int]int{}
	for i, a := range g {
		if a.kind != k.Kind {
			k.Kind = KindSSHUnknown
		}
		if i > 0 {
			intervals = append(intervals, a.at.Sub(g[i-1].at))
		}
		if a.idle != unknownIdle {
			idles = append(idles, a.idle)
		}
		k.tally(a.at, a.answered)
		if a.answered {
			replies[a.replySize]++
			lat = append(lat, a.latency)
			f.label(a.probeEv, LabelSSHProbe)
			f.label(a.replyEv, LabelSSHReply)
			f.activity.add(a.at, MarkProbe<<d)
		} else {
			f.label(a.probeEv, LabelSSHProbeUnanswered)
			f.activity.add(a.at, MarkProbe<<d|MarkUnanswered)
		}
	}
	for size, n := range replies {
		if n > replies[k.ReplyBytes] || n == replies[k.ReplyBytes] && size < k.ReplyBytes {
			k.ReplyBytes = size
		}
	}
	k.Interval, k.IdleBefore, k.ReplyLatency = newStats(intervals), newStats(idles), newStats(lat)
	k.TimerSeconds = timerSeconds(idles, d)
	return k
}

// timerSeconds estimates the period of a keepalive timer from the silences
// that preceded its probes, as the most common per-probe value (ties to the
// larger).
//
// ssh (the client's ServerAlive) arms its timer as "now + interval" in whole
// seconds of its monotonic clock, so a probe comes more than interval-1 and
// at most interval seconds after the last read, plus a few milliseconds of
// wake-up: ceil(silence - 50 ms) is the interval. sshd (ClientAlive) waits
// in ppoll for the interval and then compares whole seconds, so its probes
// come a whole number of periods after the last read, late by scheduling
// noise: the silence rounded.
func timerSeconds(idles []time.Duration, sender Role) int {
	count := map[int]int{}
	best := 0
	for _, d := range idles {
		v := int(math.Round(d.Seconds()))
		if sender == Client {
			v = int(math.Ceil((d - 50*time.Millisecond).Seconds()))
		}
		v = max(1, v)
		count[v]++
		if count[v] > count[best] || count[v] == count[best] && v > best {
			best = v
		}
	}
	return best
}

func (f *flow) label(ev int32, l Label) {
	if e := f.evAt(ev); e != nil {
		e.Label = l
	}
}

func (f *flow) tcpKeepalives(d Role) (Keepalives, bool) {
	ps := f.tcp[d]
	if len(ps) == 0 {
		return Keepalives{}, false
	}
	k := Keepalives{Sender: d, Kind: KindTCP, Probes: len(ps), First: ps[0].at, Last: ps[len(ps)-1].at}
	var intervals, idles []time.Duration
	sizes := map[int]int{}
	for i, p := range ps {
		sizes[p.bytes]++
		if i > 0 {
			intervals = append(intervals, p.at.Sub(ps[i-1].at))
		}
		idles = append(idles, p.idle)
		k.tally(p.at, p.answered)
		if p.answered {
			f.label(p.ev, LabelTCPProbe)
			f.activity.add(p.at, MarkTCPProbe<<d)
		} else {
			f.label(p.ev, LabelTCPProbeUnanswered)
			f.activity.add(p.at, MarkTCPProbe<<d|MarkUnanswered)
		}
	}
	if sizes[1] > sizes[0] {
		k.ProbeBytes = 1
	}
	k.Interval, k.IdleBefore = newStats(intervals), newStats(idles)
	return k, true
}

// tally counts the next probe, in time order: answered, or one more in the
// current run of unanswered ones (TrailingUnanswered is that run).
func (k *Keepalives) tally(at time.Time, answered bool) {
	if answered {
		k.Answered++
		k.LastAnswered = at
		k.TrailingUnanswered = 0
		return
	}
	if k.TrailingUnanswered == 0 {
		k.FirstUnanswered = at
	}
	k.TrailingUnanswered++
	k.LongestUnanswered = max(k.LongestUnanswered, k.TrailingUnanswered)
}

func secs(d time.Duration) int {
	return int(math.Round(d.Seconds()))
}

func intp(v int) *int { return &v }

// infer derives the settings the probes imply.
func (f *flow) infer(c *Conn) Inferred {
	var inf Inferred
	serverVer := ""
	major, minor, isOpenSSH := 0, 0, false
	if b := f.hs[Server].banner; b.Proto != "" {
		serverVer = b.Software
		major, minor, isOpenSSH = b.OpenSSHVersion()
	}
	for _, k := range c.SSH {
		if k.TimerSeconds == 0 {
			continue
		}
		v := k.TimerSeconds
		period := time.Duration(v) * time.Second
		switch k.Sender {
		case Client:
			if inf.ServerAliveInterval == nil {
				inf.ServerAliveInterval = intp(v)
			}
		case Server:
			if inf.ClientAliveInterval != nil {
				break
			}
			switch {
			case isOpenSSH && major == 9 && minor >= 2 && minor <= 4:
				half := max(1, (v+1)/2)
				inf.ClientAliveInterval = intp(half)
				inf.Notes = append(inf.Notes, fmt.Sprintf("%s probes every ~2×ClientAliveInterval (whole-second bug fixed in 9.5): %d s on the wire → ClientAliveInterval %d", serverVer, v, half))
			case isOpenSSH:
				inf.ClientAliveInterval = intp(v)
			default:
				inf.ClientAliveInterval = intp(v)
				if serverVer == "" {
					inf.Notes = append(inf.Notes, fmt.Sprintf("server version unknown (no handshake): if it is sshd 9.2–9.4, which probes at twice the setting, ClientAliveInterval is %d", max(1, (v+1)/2)))
				}
			}
		}
		// CountMax: the prober closed about one interval after a run of
		// unanswered probes that its peer's TCP stack still acknowledged.
		if k.TrailingUnanswered > 0 && c.End.How != "open" && c.End.By == k.Sender {
			after := c.End.At.Sub(k.Last)
			if after >= period/2 && after <= period*3/2+time.Second {
				n := intp(k.TrailingUnanswered)
				if k.Sender == Client {
					inf.ServerAliveCountMax = n
				} else {
					inf.ClientAliveCountMax = n
				}
			}
		}
	}
	for _, k := range c.TCP {
		if k.Answered > 0 {
			if t := firstAnsweredIdle(f.tcp[k.Sender]); t > 0 {
				inf.TCPKeepaliveTime = intp(max(1, secs(t)))
			}
		} else if k.IdleBefore.N > 0 {
			inf.TCPKeepaliveTime = intp(max(1, secs(f.tcp[k.Sender][0].idle)))
		}
		if k.TrailingUnanswered >= 2 {
			ps := f.tcp[k.Sender]
			var gaps []time.Duration
			for i := len(ps) - k.TrailingUnanswered + 1; i < len(ps); i++ {
				gaps = append(gaps, ps[i].at.Sub(ps[i-1].at))
			}
			inf.TCPKeepaliveIntvl = intp(max(1, secs(newStats(gaps).Median)))
		}
		if k.TrailingUnanswered > 0 && c.End.How == "rst" && c.End.By == k.Sender {
			inf.TCPKeepaliveProbes = intp(k.TrailingUnanswered)
		}
	}
	return inf
}

func firstAnsweredIdle(ps []tcpProbe) time.Duration {
	for _, p := range ps {
		if p.answered {
			return p.idle
		}
	}
	return 0
}
