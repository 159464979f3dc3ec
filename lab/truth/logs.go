package main

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// line is one endpoint debug-log line with the wall-clock stamp that
// lab/lib.sh (stamp) put in front of it.
type line struct {
	t float64
	s string
}

type logFile []line

func readLog(path string) (logFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var l logFile
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ts, rest, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		t, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			continue
		}
		l = append(l, line{t, strings.TrimRight(rest, "\r")})
	}
	return l, sc.Err()
}

// The OpenSSH 9.2p1 debug lines this program relies on (verified on captures
// made by lab/captures.sh; ssh -vvv and sshd LogLevel DEBUG3 -e).
const (
	kaOpenSSH      = "keepalive@openssh.com"
	lSendPkt       = "debug3: send packet: type "
	lRecvPkt       = "debug3: receive packet: type "
	lNoMore        = "debug1: Requesting no-more-sessions@openssh.com" // ssh: precedes a non-keepalive type 80
	lHostkeys      = "debug3: notify_hostkeys: sent "                  // sshd: precedes a non-keepalive type 80
	lSrvRtype      = "debug1: server_input_global_request: rtype keepalive@openssh.com want_reply 1"
	lCliGlobal     = "debug1: client_input_global_request: rtype keepalive@openssh.com want_reply 1"
	lCliChanSuffix = " rtype keepalive@openssh.com reply 1" // debug1: client_input_channel_req: channel 0 rtype ...
	lSrvTimeout    = "Timeout, client not responding"
	lCliTimeout    = "Timeout, server "
)

var (
	reChanReq = regexp.MustCompile(`^debug2: channel \d+: request keepalive@openssh\.com confirm 1$`)
	reGotKA   = regexp.MustCompile(`^debug1: Got (\d+)/\d+ for keepalive$`)
	reKex     = regexp.MustCompile(`^debug1: kex: client->server cipher: (\S+) MAC: (\S+) compression: (\S+)`)
	reRemote  = regexp.MustCompile(`^debug1: Remote protocol version [\d.]+, remote software version (.+)$`)
)

func isType(s, prefix string, types ...int) bool {
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, prefix))
	if err != nil {
		return false
	}
	for _, t := range types {
		if n == t {
			return true
		}
	}
	return false
}

// probe is one SSH keepalive as the endpoints logged it. Times are 0 when the
// event was not logged (e.g. never received on a dead path).
type probe struct {
	sender     string // "client" or "server"
	kind       string // "global-request", "global-request-noreply", "channel-request" or "ignore"
	name       string // request name ("" for ignore)
	wantReply  bool
	witness    bool // seen only in the receiver's log (peers.go): sendT is its receive stamp
	later      int  // witness: packets it logged receiving within 5 ms after this one
	sendT      float64
	recvT      float64 // receiver's "receive packet" line
	replySendT float64 // receiver's "send packet" line for the reply
	replyRecvT float64 // prober's "receive packet" line for the reply

	sendIdx, replySendIdx int // line numbers in the sender's / responder's log (-1: none)
}

// answered: the prober logged receiving the reply, or, for a probe seen only
// by its receiver (witness), the receiver logged sending it.
func (p probe) answered() bool { return p.replyRecvT > 0 || (p.witness && p.replySendT > 0) }

// clientProbes: ServerAliveInterval probes. The client's log gives each probe
// (every type 80 it sends except no-more-sessions) and its reply (type 81/82,
// in order); the server's log, when given, when each arrived and was answered.
func clientProbes(lc, ls logFile) []probe {
	var ps []probe
	for i, l := range lc {
		if isType(l.s, lSendPkt, 80) && !(i > 0 && lc[i-1].s == lNoMore) {
			ps = append(ps, probe{sender: "client", kind: "global-request", name: kaOpenSSH, wantReply: true, sendT: l.t, sendIdx: i, replySendIdx: -1})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	// replies to global requests come back in order
	j := 0
	for _, l := range lc {
		if j < len(ps) && l.t >= ps[j].sendT && isType(l.s, lRecvPkt, 81, 82) {
			ps[j].replyRecvT = l.t
			j++
		}
	}
	if ls != nil {
		k := 0
		for i, l := range ls {
			if l.s == lSrvRtype && k < len(ps) {
				ps[k].recvT = l.t
				for n, m := range ls[i+1:] {
					if isType(m.s, lSendPkt, 81, 82) {
						ps[k].replySendT, ps[k].replySendIdx = m.t, i+1+n
						break
					}
				}
				k++
			}
		}
	}
	return ps
}

// serverProbes: ClientAliveInterval probes from sshd's log (a channel request
// "request keepalive@openssh.com confirm 1" then type 98, or a bare type 80
// that is not the hostkeys notice), answered when sshd logs "Got N/.. for
// keepalive" (in order); the client's log, when given, tells when each arrived.
func serverProbes(ls, lc logFile) []probe {
	var ps []probe
	for i, l := range ls {
		switch {
		case reChanReq.MatchString(l.s):
			for n, m := range ls[i+1:] {
				if isType(m.s, lSendPkt, 98) {
					ps = append(ps, probe{sender: "server", kind: "channel-request", name: kaOpenSSH, wantReply: true, sendT: m.t, sendIdx: i + 1 + n, replySendIdx: -1})
					break
				}
			}
		case isType(l.s, lSendPkt, 80) && !(i > 0 && strings.HasPrefix(ls[i-1].s, lHostkeys)):
			ps = append(ps, probe{sender: "server", kind: "global-request", name: kaOpenSSH, wantReply: true, sendT: l.t, sendIdx: i, replySendIdx: -1})
		}
	}
	j := 0
	for _, l := range ls {
		if j < len(ps) && l.t >= ps[j].sendT && reGotKA.MatchString(l.s) {
			ps[j].replyRecvT = l.t
			j++
		}
	}
	if lc != nil {
		k := 0
		for i, l := range lc {
			if (l.s == lCliGlobal || (strings.HasPrefix(l.s, "debug1: client_input_channel_req: ") && strings.HasSuffix(l.s, lCliChanSuffix))) && k < len(ps) {
				ps[k].recvT = l.t
				for n, m := range lc[i+1:] {
					if isType(m.s, lSendPkt, 81, 82, 99, 100) {
						ps[k].replySendT, ps[k].replySendIdx = m.t, i+1+n
						break
					}
				}
				k++
			}
		}
	}
	return ps
}

// find returns the first line containing sub, and its time.
func (l logFile) find(sub string) (line, bool) {
	for _, x := range l {
		if strings.Contains(x.s, sub) {
			return x, true
		}
	}
	return line{}, false
}

func (l logFile) count(pred func(string) bool) int {
	n := 0
	for _, x := range l {
		if pred(x.s) {
			n++
		}
	}
	return n
}

// lastMessages returns the non-debug lines of a log (what ssh prints at
// LogLevel INFO and above), e.g. "Timeout, server ... not responding.".
func (l logFile) lastMessages(max int) []string {
	var out []string
	for _, x := range l {
		s := x.s
		if strings.HasPrefix(s, "debug") || strings.HasPrefix(s, "OpenSSH_") || strings.HasPrefix(s, "Warning: Permanently added") ||
			strings.HasPrefix(s, "Authenticated to") || strings.HasPrefix(s, "Transferred:") || strings.HasPrefix(s, "Bytes per second") {
			continue
		}
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, " ") || strings.HasPrefix(s, "The following connections are open") {
			continue
		}
		out = append(out, s)
	}
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}
