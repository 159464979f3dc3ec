package analyze

import (
	"slices"
	"sort"
	"time"
)

// Keepalives without a reply by design (PuTTY's SSH_MSG_IGNORE, paramiko's
// and libssh2's global request with want_reply 0) have no answer to
// confirm them. They count on evidence taken together: the sender's banner
// names an implementation that sends them (shapesFor lists the message only
// then), the size is exactly the message's under the negotiated cipher, and
// at least minClockwork of them keep one period. PuTTY's IGNOREs go out at
// its next wake-up, so while typing they share segments with keystrokes and
// keep no schedule on the wire: where no keystroke has an IGNORE's size the
// size is evidence enough, but not for the messages of that size that
// answer the peer's close (CHANNEL_EOF and CLOSE have an empty IGNORE's
// size). A server's exit-status can have a no-reply global request's size:
// it keeps no schedule. Periodic
// application data from such a client (a script writing a line every few
// seconds) can still pass: the README says so.

// minClockwork is the least number of probes that make a schedule.
const minClockwork = 3

// byClockwork accepts d's no-reply keepalives: the candidates of a no-reply
// shape's size (alone, or sharing a segment with keystrokes) that lie on a
// clockwork schedule. libssh2's first keepalive goes out at the program's
// first call, right after authentication, so one member less than a period
// before its schedule's start counts too; paramiko's timer restarts on its
// own sends, so only members after a silence of its own are on its
// schedule.
func byClockwork(cands []sshCand, sh []keepaliveShape, send CipherSpec, impl string) []accepted {
	earlyFirst, quietOnly := impl == ImplLibssh2, impl == ImplParamiko
	var out []accepted
	for _, s := range sh {
		if s.reply != 0 {
			continue
		}
		var members []sshCand
		for _, c := range cands {
			if (c.size == s.probe || besideKeystrokes(c.size, s.probe, send)) && !answeredAsRequest(c, sh) && (c.quiet() || !quietOnly) {
				members = append(members, c)
			}
		}
		chosen := clockwork(members, earlyFirst)
		if impl == ImplPuTTY && s.probe != send.WireSize(payloadChannelData1) {
			chosen = notClosing(members)
		}
		for _, c := range chosen {
			c.size, c.answered, c.replySize, c.latency, c.replyEv = s.probe, false, 0, 0, -1
			out = append(out, accepted{c, kindOfMsg(s.msg), s.msg})
		}
	}
	return out
}

// notClosing drops the members that answer the peer's data right away
// (CHANNEL_EOF and CLOSE after the peer's exit-status), when at least two
// remain.
func notClosing(members []sshCand) []sshCand {
	var out []sshCand
	for _, c := range members {
		if !c.afterPeer {
			out = append(out, c)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// answeredAsRequest reports whether c got the reply of one of the
// sender's want-reply keepalives of its size (libssh2 sends both).
func answeredAsRequest(c sshCand, sh []keepaliveShape) bool {
	for _, s := range sh {
		if s.reply > 0 && c.answered && s.probe == c.size && s.reply == c.replySize {
			return true
		}
	}
	return false
}

// clockTolerance is how far a probe may stray from its schedule.
func clockTolerance(period time.Duration) time.Duration {
	return max(period*3/100, 60*time.Millisecond)
}

// clockwork returns the longest run of members (in time order) spaced one
// period apart, if it has at least minClockwork members. The period is the
// candidate spacing that gives the longest run (the shorter on a tie): the
// spacings between a member and its next few, at least minIdle, that recur.
// With earlyFirst one member less than a period before the run's start is
// taken too.
func clockwork(members []sshCand, earlyFirst bool) []sshCand {
	if len(members) < minClockwork {
		return nil
	}
	var best []int
	var bestP time.Duration
	for _, p := range periods(members) {
		if run := longestRun(members, p); len(run) > len(best) || len(run) == len(best) && p < bestP {
			best, bestP = run, p
		}
	}
	if len(best) < minClockwork {
		return nil
	}
	if i := best[0] - 1; earlyFirst && i >= 0 && since(members[best[0]].at, members[i].at) < bestP {
		best = append([]int{i}, best...)
	}
	out := make([]sshCand, 0, len(best))
	for _, i := range best {
		out = append(out, members[i])
	}
	return out
}

// longestRun is the longest chain of members spaced p apart (indexes).
func longestRun(members []sshCand, p time.Duration) []int {
	tol := clockTolerance(p)
	used := make([]bool, len(members))
	var best []int
	for i := range members {
		if used[i] {
			continue
		}
		run := []int{i}
		for last := i; ; {
			want := members[last].at.Add(p)
			j := sort.Search(len(members), func(k int) bool { return !members[k].at.Before(want.Add(-tol)) })
			if j >= len(members) || j <= last || since(members[j].at, want) > tol {
				break
			}
			run = append(run, j)
			used[j] = true
			last = j
		}
		if len(run) > len(best) {
			best = run
		}
	}
	return best
}

// periods are the candidate schedule periods: spacings (at least minIdle)
// between a member and its next few that another member pair repeats, the
// maxPeriods best supported. At most periodSample members are looked at,
// so the cost stays bounded whatever the capture.
func periods(members []sshCand) []time.Duration {
	ms := members[:min(len(members), periodSample)]
	type cand struct {
		g time.Duration
		n int
	}
	var cs []cand
	for i := range ms {
		for j := i + 1; j < len(ms) && j <= i+4; j++ {
			g := since(ms[j].at, ms[i].at)
			if g < minIdle || slices.ContainsFunc(cs, func(c cand) bool { return (c.g - g).Abs() <= clockTolerance(g)/4 }) {
				continue
			}
			if n := support(ms, g); n >= 2 {
				cs = append(cs, cand{g, n})
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return b.n - a.n })
	out := make([]time.Duration, 0, maxPeriods)
	for _, c := range cs[:min(len(cs), maxPeriods)] {
		out = append(out, c.g)
	}
	return out
}

// periodSample bounds the members periods looks at; maxPeriods the
// candidate periods clockwork tries.
const (
	periodSample = 256
	maxPeriods   = 16
)

// support counts the members that another member follows g later.
func support(ms []sshCand, g time.Duration) int {
	tol := clockTolerance(g)
	n := 0
	for i := range ms {
		want := ms[i].at.Add(g)
		j := sort.Search(len(ms), func(k int) bool { return !ms[k].at.Before(want.Add(-tol)) })
		if j < len(ms) && since(ms[j].at, want) <= tol {
			n++
		}
	}
	return n
}

// closing: a message this close before the connection's first FIN is part
// of its close.
const closing = 100 * time.Millisecond

// byLearnedClockwork accepts, under compression, the no-reply keepalives
// of an implementation that sends them (PuTTY's IGNORE compresses to a
// steady size): the unanswered candidates of the most common size that
// keep a clockwork schedule.
func byLearnedClockwork(cands []sshCand, sh []keepaliveShape) []accepted {
	msg := MsgUnknown
	for _, s := range sh {
		if s.reply == 0 {
			msg = s.msg
		}
	}
	count := map[int]int{}
	for _, c := range cands {
		if !c.answered {
			count[c.size]++
		}
	}
	size, n := 0, 0
	for s, k := range count {
		if k > n || k == n && s < size {
			size, n = s, k
		}
	}
	var members []sshCand
	for _, c := range cands {
		if c.size == size && !c.answered {
			members = append(members, c)
		}
	}
	var out []accepted
	for _, c := range clockwork(members, false) {
		out = append(out, accepted{c, kindOfMsg(msg), msg})
	}
	return out
}

// byCompression accepts, under compression (keystroke is the size of an
// uncompressed one-byte CHANNEL_DATA, larger than any compressed reply),
// the probes whose size the sender's quiet, answered candidates agree on —
// the repeated keepalive compresses to a stable size — and whose silence
// is the sender's timer's: the one most of them share, within timerSlack.
// Keystrokes and their echoes compress to the same sizes (36/36 under
// chacha20) but come after silences of any length. The first probe of the
// run compresses worse (no earlier copy in the window) and counts with the
// rest, as does one coalesced with a small message and answered by a reply
// smaller than any keystroke echo (the first may come up to a second
// early with wholeSecond: a timer kept in whole seconds). Messages its
// sender followed at once with more, or right before the FIN, are the
// session's close.
func byCompression(cands []sshCand, sh []keepaliveShape, keystroke int, closeAt time.Time, wholeSecond bool) ([]accepted, map[int]bool) {
	size := commonAnsweredSize(cands)
	if size == 0 {
		return nil, nil
	}
	timer, ok := steadyTimer(cands, size)
	if !ok {
		return nil, nil
	}
	fits := func(c sshCand) bool { return c.idle != unknownIdle && (c.idle-timer).Abs() <= timerSlack(timer) }
	// a whole-second timer's first probe after traffic comes up to a
	// second early (Dropbear, OpenSSH)
	early := func(c sshCand) bool {
		return fits(c) || wholeSecond && c.idle > timer-time.Second && c.idle <= timer+timerSlack(timer)
	}
	msg := onlyRequest(sh)
	reply := smallestReply(cands, size)
	var acc []accepted
	first := true
	for _, c := range cands {
		switch {
		case c.crowded || !closeAt.IsZero() && since(closeAt, c.at) < closing:
			continue
		case c.size == size && (c.answered && fits(c) || c.retrans > 0):
		case c.answered && c.size > size && first && early(c):
			c.size = size // the first of the run, counted with the rest
		case c.answered && c.size > size && c.replySize == reply && reply < keystroke:
			// coalesced with a small message (dbclient's CLOSE)
			c.size = size
		default:
			continue
		}
		first = false
		acc = append(acc, accepted{c, kindOfMsg(msg), msg})
	}
	return acc, map[int]bool{size: true}
}

// commonAnsweredSize is the size most answered candidates have (at least
// two), the smaller on a tie; 0 when none recurs.
func commonAnsweredSize(cands []sshCand) int {
	count := map[int]int{}
	for _, c := range cands {
		if c.answered {
			count[c.size]++
		}
	}
	size, n := 0, 1
	for s, k := range count {
		if k > n || k == n && s < size {
			size, n = s, k
		}
	}
	return size
}

// timerSlack is how far a timer's silences spread: wake-up lateness, and a
// round trip where the capture is far from the prober.
func timerSlack(v time.Duration) time.Duration {
	return max(150*time.Millisecond, v/20)
}

// steadyTimer finds the silence a timer keeps before the answered
// candidates of size: the value at least two of them share within
// timerSlack; the most shared, and of those the tightest (a timer's
// silences differ by milliseconds, a typist's pauses by more).
func steadyTimer(cands []sshCand, size int) (time.Duration, bool) {
	var idles []time.Duration
	for _, c := range cands {
		if c.size == size && c.answered && c.idle != unknownIdle {
			idles = append(idles, c.idle)
		}
	}
	best, bestN, bestSpread := time.Duration(0), 1, time.Duration(0)
	for _, v := range idles {
		n, spread := 0, time.Duration(0)
		for _, w := range idles {
			if d := (w - v).Abs(); d <= timerSlack(v) {
				n++
				spread = max(spread, d)
			}
		}
		if n > bestN || n == bestN && spread < bestSpread {
			best, bestN, bestSpread = v, n, spread
		}
	}
	return best, bestN >= 2
}

// smallestReply is the smallest reply size of the answered candidates of
// size.
func smallestReply(cands []sshCand, size int) int {
	r := 0
	for _, c := range cands {
		if c.answered && c.size == size && (r == 0 || c.replySize < r) {
			r = c.replySize
		}
	}
	return r
}

// onlyRequest is the message of the sender's want-reply keepalives when
// they are all one; MsgUnknown when sizes would have to tell.
func onlyRequest(sh []keepaliveShape) Message {
	m := MsgUnknown
	for _, s := range sh {
		if s.reply == 0 {
			continue
		}
		if m != MsgUnknown && m != s.msg {
			return MsgUnknown
		}
		m = s.msg
	}
	return m
}
