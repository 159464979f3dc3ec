package analyze

import "time"

// The end diagnosis: why a connection ended, from the TCP stage's state at
// the end (FIN/RST, unacknowledged data), the keepalives classified, and the
// log of non-keepalive data. It returns facts (End, Evidence); report words
// them.

// Thresholds of the end diagnosis.
const (
	// minLogoutIdle is the least silence of the client before the server
	// ends the session for that end to count as an idle logout rather than
	// an ordinary end right after traffic.
	minLogoutIdle = 2 * time.Second
	// logoutToClose bounds the time from the server's first data after the
	// silence to the connection's first FIN.
	logoutToClose = 10 * time.Second
	// rstAnswer bounds the time from a segment to an RST that answers it.
	rstAnswer = 2 * time.Second
)

// endFacts is what the end diagnosis looks at: the connection's summary so
// far and the flow state behind it.
type endFacts struct {
	first, last time.Time
	end         End // How, By, At
	ssh, tcp    []Keepalives
	bursts      []burst // most recent first
	lastReal    time.Time
	realSeen    bool
	out         [2]outstanding
	lastFrom    [2]time.Time     // each end's last segment
	quietEnd    time.Time        // the last non-keepalive data either way before the end (zero: none)
	lastAtEnd   [2]time.Time     // each end's last non-keepalive data before the end (zero: none)
	quietAtEnd  [2]time.Duration // at that data, how long the other end had sent none
	bareEnd     bool             // the end carried no data
	exact       bool             // message sizes are known from the handshake
	closing     func(int) bool   // whether a server segment is session-closing messages (nil: sizes unknown)
}

func (f *flow) endFacts(c *Conn) endFacts {
	x := endFacts{first: f.tcp.first, last: f.tcp.last, end: c.End, ssh: c.SSH, tcp: c.TCP,
		lastReal: f.data.lastReal, realSeen: f.data.realSeen, out: f.tcp.out, quietEnd: f.data.atEnd, lastAtEnd: f.data.byAtEnd, quietAtEnd: f.data.quietAtEnd, bareEnd: f.tcp.bareEnd,
		exact: f.ssh.exactKnown(), closing: f.ssh.closing(Server, f.implied)}
	n := min(f.data.nBursts, len(f.data.bursts))
	x.bursts = append([]burst(nil), f.data.bursts[:n]...)
	for i := range x.bursts {
		refineIdle(&x.bursts[i], c.SSH)
	}
	for d := range x.lastFrom {
		x.lastFrom[d] = f.tcp.dir[d].lastSeg
	}
	return x
}

// diagnose tells why the connection ended, trying the causes from the most
// specific evidence to the least.
func diagnose(x endFacts) End {
	e := x.end
	e.Evidence = nil
	// Silence before the end: from the last non-keepalive data.
	if x.realSeen {
		ref := e.At
		if e.How == "open" {
			ref = x.last
		}
		if !x.lastReal.After(ref) {
			e.IdleBeforeEnd, e.HasIdle = since(ref, x.lastReal), true
		}
	}
	for _, try := range []func(endFacts, *End) bool{tcpKeepaliveTimeout, stalled, keepaliveTimeout, captureEnded, idleLogout, orderlyEnd} {
		if try(x, &e) {
			return e
		}
	}
	e.Cause, e.Actor = CauseUnknown, e.By
	e.Evidence = append(e.Evidence, Evidence{At: e.At, Kind: EvResetNoSign, Who: e.By})
	return e
}

// tcpKeepaliveTimeout: unanswered TCP probes, then the prober's RST.
func tcpKeepaliveTimeout(x endFacts, e *End) bool {
	if e.How != "rst" {
		return false
	}
	for _, k := range x.tcp {
		if k.Sender != e.By || k.TrailingUnanswered == 0 || k.Last.After(e.At) {
			continue
		}
		peer := k.Sender.Peer()
		e.Cause, e.Actor, e.UnansweredProbes = CauseTCPKeepaliveTimeout, k.Sender, k.TrailingUnanswered
		e.AliveUntil = x.lastFrom[peer]
		if e.AliveUntil.After(e.At) || e.AliveUntil.IsZero() {
			e.AliveUntil = time.Time{}
		} else {
			e.DetectedAfter = since(e.At, e.AliveUntil)
			e.Evidence = append(e.Evidence, Evidence{At: e.AliveUntil, Kind: EvLastFrom, Who: peer})
		}
		e.Evidence = append(e.Evidence,
			Evidence{At: k.FirstUnanswered, Kind: EvTCPProbesUnanswered, Who: k.Sender, Count: k.TrailingUnanswered},
			Evidence{At: e.At, Kind: EvKernelReset, Who: k.Sender})
		return true
	}
	return false
}

// rstAnswers reports whether the end is the peer's RST answering d's
// unacknowledged segment o.
func rstAnswers(e *End, d Role, o outstanding) bool {
	return e.How == "rst" && e.By == d.Peer() && !e.At.Before(o.at) && since(e.At, o.at) <= rstAnswer
}

// stalled: a segment the peer never acknowledged, retransmitted or answered
// by an RST — the path (or a middlebox on it) stopped delivering. After a
// silence clearly longer than any the path survived it is an idle drop,
// else a dead path.
func stalled(x endFacts, e *End) bool {
	st := -1
	for d := range x.out {
		o := x.out[d]
		if o.on && (o.retrans > 0 || rstAnswers(e, Role(d), o)) && (st < 0 || o.at.Before(x.out[st].at)) {
			st = d
		}
	}
	if st < 0 {
		return false
	}
	d := Role(st)
	o := x.out[d]
	e.Actor = d
	for _, k := range x.ssh {
		if k.Sender == d && k.TrailingUnanswered > 0 {
			e.UnansweredProbes += k.TrailingUnanswered
		}
	}
	stall := Stall{Probe: e.UnansweredProbes > 0, Retrans: o.retrans, LastRetrans: o.lastRetrans, RST: rstAnswers(e, d, o)}
	if idleDropped(o) {
		before := o.at.Add(-o.gap)
		e.Cause = CauseIdleDrop
		e.SurvivedIdle, e.FatalIdle = o.survived, o.gap
		e.AliveUntil = before
		e.Evidence = append(e.Evidence,
			Evidence{At: before, Kind: EvLastBeforeSilence, Idle: o.gap, Survived: o.survived},
			Evidence{At: o.at, Kind: EvFirstAfterSilence, Who: d, Stall: stall})
		return true
	}
	e.Cause = CauseDeadPath
	e.AliveUntil = x.lastFrom[d.Peer()]
	if e.AliveUntil.After(o.at) {
		e.AliveUntil = o.heard
	}
	e.Evidence = append(e.Evidence,
		Evidence{At: e.AliveUntil, Kind: EvPathWorked, Who: d.Peer()},
		Evidence{At: o.at, Kind: EvStalled, Who: d, Stall: stall})
	return true
}

// idleDropped reports whether the stalled segment came after a silence
// clearly longer than any the path had carried: a quarter as long again
// (and a second more: 8.1 s survived, 11.6 s fatal under a 10 s NAT), or —
// for silences of the length middleboxes time out (30 s and more) — longer
// by 5 s or 5 %: a session that survived 230 s and died after 260 s met
// Azure's 240 s.
func idleDropped(o outstanding) bool {
	switch {
	case o.gap >= o.survived*5/4 && o.gap-o.survived >= time.Second:
		return true
	case o.gap >= 30*time.Second:
		return o.gap-o.survived >= max(5*time.Second, o.survived/20)
	}
	return false
}

// keepaliveTimeout: SSH probes acknowledged by TCP but not answered, then
// the prober closes.
func keepaliveTimeout(x endFacts, e *End) bool {
	if e.How == "open" {
		return false
	}
	for _, k := range x.ssh {
		if k.Sender != e.By || k.TrailingUnanswered == 0 || k.Last.After(e.At) {
			continue
		}
		e.Cause, e.Actor, e.UnansweredProbes = CauseKeepaliveTimeout, k.Sender, k.TrailingUnanswered
		if !k.LastAnswered.IsZero() {
			e.AliveUntil = k.LastAnswered
			e.DetectedAfter = since(e.At, k.LastAnswered)
			e.Evidence = append(e.Evidence, Evidence{At: k.LastAnswered, Kind: EvLastProbeAnswered, Who: k.Sender})
		}
		e.Evidence = append(e.Evidence,
			Evidence{At: k.FirstUnanswered, Kind: EvProbesUnanswered, Who: k.Sender, Count: k.TrailingUnanswered},
			Evidence{At: e.At, Kind: EvGivesUp, Who: k.Sender, How: e.How})
		return true
	}
	return false
}

// captureEnded: the connection was still open when the capture ended.
func captureEnded(x endFacts, e *End) bool {
	if e.How != "open" {
		return false
	}
	e.Cause = CauseOpen
	e.Evidence = append(e.Evidence, Evidence{At: x.last, Kind: EvCaptureEnded})
	return true
}

// lastBurst is the burst of data the end belongs to (nil: none).
func lastBurst(x endFacts, e *End) *burst {
	for i := range x.bursts {
		if !x.bursts[i].at.After(e.At) {
			return &x.bursts[i]
		}
	}
	return nil
}

// idleLogout: the server ends the session after the client's silence. A
// bare FIN on a connection silent but for keepalives is the server's idle
// timer (Dropbear's -I, which ignores keepalives; sshd's
// UnusedConnectionTimeout). Data then the close: when the server sent
// only the session-closing messages (exit-status, EOF, CLOSE; without exact
// sizes, a single segment), or had kept sending while the client was
// silent, the remote command ended; a last message first is an idle
// logout — a shell's TMOUT, or a command whose last act was to print,
// which the wire cannot tell apart.
func idleLogout(x endFacts, e *End) bool {
	if e.How == "fin" && e.By == Server && x.bareEnd && !x.quietEnd.IsZero() && since(e.At, x.quietEnd) >= minLogoutIdle {
		e.Cause, e.Actor, e.Logout = CauseIdleLogout, Server, LogoutBare
		e.IdleBeforeEnd, e.HasIdle = since(e.At, x.quietEnd), true
		e.Evidence = append(e.Evidence,
			Evidence{At: x.quietEnd, Kind: EvLastData},
			Evidence{At: e.At, Kind: EvCloses, Who: Server, How: e.How})
		return true
	}
	b := lastBurst(x, e)
	sLast, quiet := x.lastAtEnd[Server], x.quietAtEnd[Server] // the client's silence until the server's last data
	if b == nil || sLast.IsZero() || since(e.At, sLast) > logoutToClose || quiet < minLogoutIdle {
		return false
	}
	e.Actor = Server
	e.IdleBeforeEnd, e.IdleAtLeast, e.HasIdle = b.idle, b.atLeast, true
	switch {
	case b.idle < minLogoutIdle || quiet >= b.idle+burstGap:
		// the server kept sending while the client was silent: its
		// command was running, and it ended
		e.Cause, e.IdleBeforeEnd = CauseCommandEnded, quiet
		e.Evidence = append(e.Evidence, Evidence{At: b.at, Kind: EvServerWasActive, Who: Server, Idle: quiet})
	case b.by == Server && (b.closingOnly(x.closing) || x.closing == nil && b.segs == 1):
		e.Cause = CauseCommandEnded
		e.Evidence = append(e.Evidence, Evidence{At: b.at, Kind: EvServerCloses, Who: Server, Idle: b.idle, AtLeast: b.atLeast})
	case x.closing == nil:
		// a last message, or the closing messages in two segments: without
		// the sizes the wire cannot tell
		e.Cause = CauseServerEnded
		e.Evidence = append(e.Evidence, Evidence{At: b.at, Kind: EvServerAfterSilence, Who: Server, Idle: b.idle, AtLeast: b.atLeast})
	default:
		e.Cause, e.Logout = CauseIdleLogout, LogoutMessage
		e.Evidence = append(e.Evidence, Evidence{At: b.at, Kind: EvServerAfterSilence, Who: Server, Idle: b.idle, AtLeast: b.atLeast})
	}
	e.Evidence = append(e.Evidence, Evidence{At: e.At, Kind: EvCloses, Who: e.By, How: e.How})
	return true
}

// orderlyEnd: any other FIN.
func orderlyEnd(x endFacts, e *End) bool {
	if e.How != "fin" {
		return false
	}
	e.Cause, e.Actor = CauseUserExit, e.By
	if b := lastBurst(x, e); b != nil && since(e.At, b.at) <= logoutToClose {
		e.Actor = b.by
		e.Evidence = append(e.Evidence, Evidence{At: b.at, Kind: EvDataAfter, Who: b.by, Idle: b.idle})
	}
	e.Evidence = append(e.Evidence, Evidence{At: e.At, Kind: EvCloses, Who: e.By, How: "FIN"})
	return true
}

// refineIdle raises a lower-bound silence with what the first keepalive
// probe implies: a keepalive timer fires one period after the last packet
// its sender received, so the silence began at least that long before it.
func refineIdle(b *burst, ssh []Keepalives) {
	if !b.atLeast {
		return
	}
	for _, k := range ssh {
		if k.TimerSeconds == 0 || !k.First.Before(b.at) {
			continue
		}
		if idle := since(b.at, k.First.Add(-time.Duration(k.TimerSeconds)*time.Second)); idle > b.idle {
			b.idle = idle
		}
	}
}
