package analyze

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Keepalives without a reply by design (PuTTY's SSH_MSG_IGNORE, paramiko's
// and libssh2's global request with want_reply 0) have no answer to
// confirm them. They count only on three pieces of evidence together: the
// sender's banner names an implementation that sends them (shapesFor lists
// the message only then), the size is exactly the message's under the
// negotiated cipher, and at least minClockwork of them keep one period.
// Periodic application data from such a client (a script writing a line
// every few seconds) can still pass: the README says so.

// minClockwork is the least number of probes that make a schedule.
const minClockwork = 3

// byClockwork accepts d's no-reply keepalives: the candidates of a no-reply
// shape's size (alone, or sharing a segment with keystrokes) that lie on a
// clockwork schedule. With earlyFirst (libssh2, whose first keepalive goes
// out at the program's first call, right after authentication) one member
// less than a period before the schedule's start counts too.
func byClockwork(cands []sshCand, sh []keepaliveShape, send CipherSpec, earlyFirst bool) []accepted {
	var out []accepted
	for _, s := range sh {
		if s.reply != 0 {
			continue
		}
		var members []sshCand
		for _, c := range cands {
			if (c.size == s.probe || besideKeystrokes(c.size, s.probe, send)) && !answeredAsRequest(c, sh) {
				members = append(members, c)
			}
		}
		for _, c := range clockwork(members, earlyFirst) {
			c.size, c.answered, c.replySize, c.latency, c.replyEv = s.probe, false, 0, 0, -1
			out = append(out, accepted{c, kindOfMsg(s.msg), s.msg})
		}
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
// period apart, if it has at least minClockwork members; the period is the
// spacing that most consecutive members share.
func clockwork(members []sshCand, earlyFirst bool) []sshCand {
	if len(members) < minClockwork {
		return nil
	}
	p := period(members)
	if p == 0 {
		return nil
	}
	tol := clockTolerance(p)
	used := make([]bool, len(members))
	var best []int
	for i := range members {
		if used[i] {
			continue
		}
		chain := []int{i}
		for last := i; ; {
			want := members[last].at.Add(p)
			j := sort.Search(len(members), func(k int) bool { return !members[k].at.Before(want.Add(-tol)) })
			if j >= len(members) || j <= last || members[j].at.Sub(want) > tol {
				break
			}
			chain = append(chain, j)
			used[j] = true
			last = j
		}
		if len(chain) > len(best) {
			best = chain
		}
	}
	if len(best) < minClockwork {
		return nil
	}
	if i := best[0] - 1; earlyFirst && i >= 0 && members[best[0]].at.Sub(members[i].at) < p {
		best = append([]int{i}, best...)
	}
	out := make([]sshCand, 0, len(best))
	for _, i := range best {
		out = append(out, members[i])
	}
	return out
}

// period is the spacing (at least minIdle) that most consecutive members
// share within clockTolerance, the shorter on a tie; 0 when no spacing
// recurs.
func period(members []sshCand) time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(members); i++ {
		if g := members[i].at.Sub(members[i-1].at); g >= minIdle {
			gaps = append(gaps, g)
		}
	}
	slices.Sort(gaps)
	best, bestN := time.Duration(0), 1
	for _, g := range gaps {
		n := 0
		for _, h := range gaps {
			if (h - g).Abs() <= clockTolerance(g) {
				n++
			}
		}
		if n > bestN {
			best, bestN = g, n
		}
	}
	return best
}

// byCompression accepts, under compression, the probes whose size the
// sender's quiet, answered candidates agree on: the most common such size
// (at least two of them) — the repeated keepalive compresses to a stable
// size — with the first probe of the run, which compresses worse (no
// earlier copy in the window), counted with them. Their silences must
// agree too: most of them give the same whole-second timer.
func byCompression(cands []sshCand, sh []keepaliveShape) ([]accepted, map[int]bool) {
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
	if size == 0 || !steadyTimer(cands, size) {
		return nil, nil
	}
	msg := onlyRequest(sh)
	var acc []accepted
	for i, c := range cands {
		switch {
		case c.size == size && (c.answered || c.retrans > 0):
		case c.answered && c.size > size && firstOfRun(cands, i, size):
			c.size = size // counted with the probes it is one of
		default:
			continue
		}
		acc = append(acc, accepted{c, kindOfMsg(msg), msg})
	}
	return acc, map[int]bool{size: true}
}

// steadyTimer reports whether most answered candidates of size came after
// silences of the same whole number of seconds.
func steadyTimer(cands []sshCand, size int) bool {
	secs := map[int]int{}
	n, top := 0, 0
	for _, c := range cands {
		if c.size != size || !c.answered || c.idle == unknownIdle {
			continue
		}
		n++
		v := int(math.Round(c.idle.Seconds()))
		secs[v]++
		top = max(top, secs[v])
	}
	return n > 0 && top*5 >= n*3
}

// firstOfRun reports whether cands[i] is the candidate just before the
// first answered one of size, about one period earlier.
func firstOfRun(cands []sshCand, i, size int) bool {
	for j := range i {
		if cands[j].answered && cands[j].size == size {
			return false
		}
	}
	if i+1 >= len(cands) {
		return false
	}
	next := cands[i+1]
	gap := next.at.Sub(cands[i].at)
	return next.answered && next.size == size && next.idle != unknownIdle && (gap-next.idle).Abs() <= time.Second
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
