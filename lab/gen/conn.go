package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
)

const ms = int64(1000)

// conn simulates one SSH connection. The capture point is next to the
// server: a client packet is seen o[0] after the client sent it, and a
// server packet o[0] before the client reads it. All times are µs after
// Start; "local" times are when an end sends or reads.
type conn struct {
	rng   *rand.Rand
	ep    [2]netip.AddrPort
	s     suite
	o     [2]int64 // one-way delay between the capture point and each end
	proc  int64    // server turnaround
	total int64    // capture length

	nxt   [2]uint32 // each end's next sequence number
	q     []pkt     // packets of the current step, then handed out in order
	qi    int
	t     int64 // latest packet time so far
	now   int64 // when the next activity starts
	endAt int64
	plan  string // fin, rst, hung, dead, open
	stage int
	done  bool

	channel   bool     // a session channel is open (else ssh -N)
	armed     bool     // SSH keepalive timers run (after authentication)
	alive     [2]int64 // effective SSH keepalive period, 0 = off
	phase     [2]int64 // offset of each end's whole-second clock
	countMax  [2]int
	deadline  [2]int64 // local time of each end's next keepalive expiry
	timeouts  [2]int   // OpenSSH's keep_alive_timeouts
	lastRecv  [2]int64 // local time each end last received a segment
	tcpSide   int      // the end with TCP keepalives on, -1 none
	tcpTime   int64
	tcpIntvl  int64
	tcpProbes int
	tcpOut    int   // unanswered TCP probes in a row
	tcpLast   int64 // local time of the last TCP probe
	hung      [2]bool
	dead      bool // the path is dead: only survivor's packets are seen
	survivor  int

	truth connTruth
}

func newConn(o options, id int, total int64) *conn {
	r := rand.New(rand.NewPCG(o.seed, uint64(id)+1))
	c := &conn{rng: r, total: total, tcpSide: -1}
	if r.Float64() < o.ipv6 {
		c.ep[0] = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0xc, 0, byte(id >> 16), byte(id >> 8), byte(id)}), uint16(32768+r.IntN(28000)))
		c.ep[1] = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x5, 0, 0, 0, byte(1 + r.IntN(8))}), 22)
	} else {
		c.ep[0] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(1 + id>>16), byte(id >> 8), byte(id)}), uint16(32768+r.IntN(28000)))
		c.ep[1] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 200, 0, byte(1 + r.IntN(8))}), 22)
	}
	c.s = suites[r.IntN(len(suites))]
	c.truth.s = c.s
	rtt := 1*ms + r.Int64N(59*ms)
	c.o = [2]int64{rtt / 2, 0}
	c.proc = 50 + r.Int64N(450)
	c.nxt = [2]uint32{r.Uint32(), r.Uint32()}
	c.channel = r.Float64() < 0.85
	cv, sv := clientVersions[r.IntN(len(clientVersions))], serverVersions[r.IntN(len(serverVersions))]
	if r.Float64() < 0.5 {
		c.truth.alive[0] = []int{10, 15, 20, 30, 60}[r.IntN(5)]
		c.alive[0] = int64(c.truth.alive[0]) * sec
	}
	if r.Float64() < 0.4 {
		c.truth.alive[1] = []int{10, 15, 30, 60}[r.IntN(4)]
		c.alive[1] = int64(c.truth.alive[1]*clientAliveFactor(sv)) * sec
	}
	for d := range 2 {
		c.phase[d] = r.Int64N(sec)
		c.countMax[d] = 2 + r.IntN(2)
	}
	if r.Float64() < 0.15 {
		c.tcpSide = r.IntN(2)
		c.tcpTime = []int64{20, 30, 45, 60}[r.IntN(4)] * sec
		c.tcpIntvl = []int64{5, 10}[r.IntN(2)] * sec
		c.tcpProbes = 3 + 2*r.IntN(2)
	}
	start := r.Int64N(total * 9 / 10)
	life := int64(math.Exp(math.Log(120)+r.Float64()*math.Log(float64(total/sec)/120)) * float64(sec))
	c.now, c.endAt = start, start+life
	c.plan = []string{"fin", "fin", "fin", "fin", "rst", "rst", "hung", "hung", "dead"}[r.IntN(9)]
	if c.endAt > total-5*sec {
		c.endAt, c.plan = total-5*sec, "open"
	}
	c.truth.c = TruthConn{
		Client: c.ep[0].String(), Server: c.ep[1].String(),
		ClientBanner: "SSH-2.0-" + cv, ServerBanner: "SSH-2.0-" + sv,
		Cipher: TruthCipher{c.s.name(), c.s.name()},
		End:    TruthEnd{How: "open"},
	}
	c.story("rtt %.1f ms, %s, ServerAlive %d, ClientAlive %d (%s), tcp keepalive side %d time %ds, plan %s",
		float64(rtt)/1000, map[bool]string{true: "channel", false: "ssh -N"}[c.channel], c.truth.alive[0], c.truth.alive[1], sv, c.tcpSide, c.tcpTime/sec, c.plan)
	return c
}

func (c *conn) story(format string, a ...any) {
	c.truth.c.Story = append(c.truth.c.Story, fmt.Sprintf(format, a...))
}

func (c *conn) endpoints(from int) (netip.AddrPort, netip.AddrPort) { return c.ep[from], c.ep[1-from] }

func (c *conn) next() (pkt, bool) {
	for c.qi >= len(c.q) {
		if c.done {
			return pkt{}, false
		}
		c.q, c.qi = c.q[:0], 0
		c.step()
		slices.SortStableFunc(c.q, func(a, b pkt) int { return int(a.at - b.at) })
	}
	c.qi++
	return c.q[c.qi-1], true
}

func (c *conn) step() {
	switch {
	case c.stage == 0:
		c.setup()
		c.stage = 1
	case c.now < c.endAt:
		c.activity()
	default:
		c.finish()
	}
}

// send queues a segment from one end (capture time at) and updates what
// the other end has received.
func (c *conn) send(from int, at int64, flags uint8, n int, data []byte) {
	to := 1 - from
	p := pkt{at: at, from: from, flags: flags | fACK, seq: c.nxt[from], ack: c.nxt[to], n: n, data: data}
	if flags&fSYN != 0 && from == 0 {
		p.flags = fSYN
	}
	c.nxt[from] += uint32(n)
	if flags&(fSYN|fFIN) != 0 {
		c.nxt[from]++
	}
	c.emit(p)
	if c.dead {
		return // nothing gets through
	}
	recv := at + c.o[to]
	c.lastRecv[to] = max(c.lastRecv[to], recv)
	if n > 0 && !c.hung[to] {
		c.timeouts[to] = 0
		c.arm(to, recv)
	}
}

func (c *conn) emit(p pkt) {
	c.q = append(c.q, p)
	c.t = max(c.t, p.at)
	c.truth.c.Packets++
}

// arm sets an end's keepalive deadline: OpenSSH counts whole seconds of its
// monotonic clock, so the timer fires interval seconds after the last read,
// rounded down to that clock's second.
func (c *conn) arm(end int, local int64) {
	if !c.armed || c.alive[end] == 0 {
		return
	}
	x := local + c.phase[end]
	c.deadline[end] = x - x%sec + c.alive[end] - c.phase[end]
}

// records sends SSH records with these payload sizes in one segment.
func (c *conn) records(from int, at int64, payloads ...int) int64 {
	n := 0
	for _, p := range payloads {
		n += c.s.wire(p)
	}
	c.send(from, at, fPSH, n, nil)
	return at
}

// reply is when the other end's answer to a packet seen at `at` is seen.
func (c *conn) reply(to int, at int64) int64 {
	return at + 2*c.o[to] + c.proc + c.rng.Int64N(200)
}

func (c *conn) setup() {
	t := c.now
	c.send(0, t, fSYN, 0, nil)
	t = c.reply(1, t)
	c.send(1, t, fSYN, 0, nil)
	t = c.reply(0, t)
	c.send(0, t, 0, 0, nil)
	cb := []byte(c.truth.c.ClientBanner + "\r\n")
	sb := []byte(c.truth.c.ServerBanner + "\r\n")
	c.send(0, t+50, fPSH, len(cb), cb)
	ts := t + 2*ms + c.rng.Int64N(3*ms)
	c.send(1, ts, fPSH, len(sb), sb)
	sk := clearPacket(kexinit(c.s, byte(c.rng.Uint32()), true))
	c.send(1, ts+500, fPSH, len(sk), sk)
	tc := c.reply(0, ts) + 300
	ck := clearPacket(kexinit(c.s, byte(c.rng.Uint32()), false))
	c.send(0, tc, fPSH, len(ck), ck)
	ecdh := clearPacket(append([]byte{30, 0, 0, 0, 32}, make([]byte, 32)...))
	c.send(0, tc+200, fPSH, len(ecdh), ecdh)
	reply := clearPacket(append([]byte{31}, make([]byte, 178)...))
	reply = append(reply, clearPacket([]byte{21})...) // NEWKEYS with the reply
	ts = tc + 200 + 2*ms + c.rng.Int64N(2*ms)
	c.send(1, ts, fPSH, len(reply), reply)
	nk := clearPacket([]byte{21})
	t = c.reply(0, ts) + ms
	c.send(0, t, fPSH, len(nk), nk)
	// Encrypted: service request, auth (none, publickey query, signature),
	// and for a session channel: open, pty-req+env+shell, MOTD and prompt.
	t = c.records(0, t+100, 17)
	t = c.records(1, c.reply(1, t), 230, 17)
	t = c.records(0, c.reply(0, t), 35)
	t = c.records(1, c.reply(1, t), 24)
	t = c.records(0, c.reply(0, t)+ms, 115)
	t = c.records(1, c.reply(1, t)+ms, 71)
	t = c.records(0, c.reply(0, t)+2*ms, 202)
	t = c.records(1, c.reply(1, t)+5*ms, 1, 560)
	if c.channel {
		t = c.records(0, c.reply(0, t), 24)
		t = c.records(1, c.reply(1, t)+ms, 17)
		t = c.records(0, c.reply(0, t), 310, 40, 15)
		t = c.records(1, c.reply(1, t)+3*ms, 5, 5)
		t = c.records(1, t+20*ms, 9+c.output())
		t = c.records(1, t+ms, 9+c.prompt())
		c.send(0, c.reply(0, t)+c.rng.Int64N(15*ms), 0, 0, nil)
	} else {
		c.send(0, c.reply(0, t)+c.rng.Int64N(15*ms), 0, 0, nil)
	}
	c.armed = true
	for d := range 2 {
		c.arm(d, c.t+c.o[d])
	}
	c.now = c.t + 300*ms + c.rng.Int64N(2*sec)
}

// output is a CHANNEL_DATA length whose record has no keepalive's size.
func (c *conn) output() int {
	for {
		n := 20 + c.rng.IntN(1400)
		if !c.s.avoid(c.s.wire(9 + n)) {
			return n
		}
	}
}

// prompt is a shell prompt's length ("user@host:~$ ").
func (c *conn) prompt() int { return 14 + c.rng.IntN(12) }

func (c *conn) logUniform(lo, hi int64) int64 {
	return int64(math.Exp(math.Log(float64(lo)) + c.rng.Float64()*math.Log(float64(hi)/float64(lo))))
}

func (c *conn) activity() {
	u := c.rng.Float64()
	switch {
	case !c.channel || u < 0.5:
		lo, hi := 3*sec, 15*60*sec
		if !c.channel {
			lo, hi = 30*sec, 30*60*sec
		}
		c.idle(min(c.endAt, c.now+c.logUniform(lo, hi)))
	case u < 0.9:
		c.typing(2+c.rng.IntN(20), 3)
		c.now = c.t + 200*ms + c.rng.Int64N(2*sec)
	default:
		c.bulk()
		c.now = c.t + 200*ms + c.rng.Int64N(2*sec)
	}
}

// typing sends keystrokes with their echoes, then Enter and the output.
func (c *conn) typing(keys, outputs int) {
	t := c.now
	for i := range keys {
		if i > 0 {
			t += 80*ms + c.logUniform(1, 500*ms)
		}
		c.records(0, t, payKeystroke)
		e := c.records(1, c.reply(1, t), payKeystroke)
		c.send(0, c.reply(0, e)+c.rng.Int64N(15*ms), 0, 0, nil)
	}
	t += 80*ms + c.logUniform(1, 400*ms)
	c.records(0, t, payKeystroke) // Enter
	t = c.records(1, c.reply(1, t), payKeystroke+1)
	for range c.rng.IntN(outputs + 1) {
		t = c.records(1, t+ms+c.rng.Int64N(20*ms), 9+c.output())
	}
	t = c.records(1, t+ms, 9+c.prompt())
	c.send(0, c.reply(0, t)+c.rng.Int64N(15*ms), 0, 0, nil)
}

// bulk is a transfer of MSS-sized segments after a short command, acked
// every second segment.
func (c *conn) bulk() {
	c.typing(1+c.rng.IntN(8), 0)
	from := 1
	if c.rng.Float64() < 0.3 {
		from = 0
	}
	to := 1 - from
	size := c.logUniform(10<<10, 2<<20)
	rate := c.logUniform(1<<20, 40<<20) // bytes per second
	t := c.t + 2*ms
	for i := 0; size > 0; i++ {
		n := int(min(size, 1448))
		if size-int64(n) < 200 {
			n = int(size) // no small tail
			if n > 1448 {
				n -= 400
			}
		}
		size -= int64(n)
		c.send(from, t, fPSH, n, nil)
		if i%2 == 1 || size == 0 {
			c.send(to, c.reply(to, t), 0, 0, nil)
		}
		t += int64(n) * sec / rate
	}
}

// idle lets the keepalive timers run until `until`.
func (c *conn) idle(until int64) {
	for !c.done {
		at, end, tcp := c.nextTimer()
		if at > until {
			break
		}
		at = max(at, c.t+300*ms)
		if tcp {
			c.tcpProbe(end, at+c.rng.Int64N(16*ms))
		} else {
			c.sshProbe(end, at+200+c.rng.Int64N(3*ms))
		}
	}
	c.now = max(until, c.t+1500*ms)
}

// nextTimer is the earliest keepalive timer and the time its packet is seen.
func (c *conn) nextTimer() (at int64, end int, tcp bool) {
	at = math.MaxInt64
	for d := range 2 {
		if c.alive[d] > 0 && !c.hung[d] && (!c.dead || d == c.survivor) {
			if t := c.deadline[d] + c.o[d]; t < at {
				at, end, tcp = t, d, false
			}
		}
	}
	if d := c.tcpSide; d >= 0 && (!c.dead || d == c.survivor) {
		t := c.lastRecv[d] + c.tcpTime
		if c.tcpOut > 0 {
			t = c.tcpLast + c.tcpIntvl
		}
		if t += c.o[d]; t < at {
			at, end, tcp = t, d, true
		}
	}
	return at, end, tcp
}

func (c *conn) probeKind(from int) (kind string, size, reply int) {
	if from == 1 && c.channel {
		return "channel-request", c.s.wire(payChannelReq), c.s.wire(payChanFailure)
	}
	return "global-request", c.s.wire(payGlobalReq), c.s.wire(payReqFailure)
}

// sshProbe is an SSH keepalive timer expiry at an end (OpenSSH
// server_alive_check / client_alive_check).
func (c *conn) sshProbe(x int, at int64) {
	y := 1 - x
	if c.timeouts[x]++; c.timeouts[x] > c.countMax[x] {
		c.story("%s gives up after %d unanswered probes", roles[x], c.countMax[x])
		c.send(x, at, fFIN, 0, nil)
		c.truth.c.End = TruthEnd{How: "fin", By: roles[x]}
		if !c.dead {
			c.send(y, c.reply(y, at)+c.rng.Int64N(40*ms), 0, 0, nil)
		}
		c.done = true
		return
	}
	kind, size, reply := c.probeKind(x)
	c.send(x, at, fPSH, size, nil)
	c.arm(x, at-c.o[x])
	switch {
	case c.dead:
		// Retransmitted with backoff; later probes and the FIN queue
		// behind it and never show.
		seq, rto := c.nxt[x]-uint32(size), 200*ms+2*c.o[0]
		for k := range 6 {
			at += rto << k
			c.emit(pkt{at: at, from: x, flags: fPSH | fACK, seq: seq, ack: c.nxt[y], n: size})
		}
		c.truth.sshProbe(x, kind, size, 0, false)
		c.story("path dead: %s's probe retransmitted", roles[x])
		c.done = true
	case c.hung[y]:
		c.send(y, c.reply(y, at)+c.rng.Int64N(40*ms), 0, 0, nil) // the kernel still ACKs
		c.truth.sshProbe(x, kind, size, 0, false)
	default:
		r := c.records(y, c.reply(y, at), payloadOf(reply, c.s))
		c.send(x, c.reply(x, r)+c.rng.Int64N(40*ms), 0, 0, nil)
		c.truth.sshProbe(x, kind, size, reply, true)
	}
}

// payloadOf maps a reply's wire size back to its payload (1 or 5 bytes).
func payloadOf(wire int, s suite) int {
	if s.wire(payReqFailure) == wire {
		return payReqFailure
	}
	return payChanFailure
}

// tcpProbe is a Linux keepalive: 0 bytes at snd_nxt-1, answered by an ACK.
func (c *conn) tcpProbe(x int, at int64) {
	y := 1 - x
	if c.dead && c.tcpOut >= c.tcpProbes {
		c.send(x, at, fRST, 0, nil)
		c.truth.c.End = TruthEnd{How: "rst", By: roles[x]}
		c.story("path dead: %s resets after %d TCP probes", roles[x], c.tcpOut)
		c.done = true
		return
	}
	c.emit(pkt{at: at, from: x, flags: fACK, seq: c.nxt[x] - 1, ack: c.nxt[y]})
	c.tcpLast = at - c.o[x]
	if c.dead {
		c.tcpOut++
		c.truth.tcpProbe(x, false)
		return
	}
	c.send(y, c.reply(y, at), 0, 0, nil)
	c.truth.tcpProbe(x, true)
}

// finish ends the connection as planned, or as close to it as the
// connection's settings allow.
func (c *conn) finish() {
	switch c.plan {
	case "hung":
		for x := range 2 {
			if c.alive[x] > 0 && c.truth.ssh[x].Answered > 0 {
				c.hung[1-x] = true
				c.story("%s hangs (process stopped, kernel alive)", roles[1-x])
				c.idle(c.total - 5*sec)
				c.done = true
				return
			}
		}
	case "dead":
		for x := range 2 {
			if (c.alive[x] > 0) != (c.tcpSide == x) {
				c.dead, c.survivor = true, x
				c.story("path dies; capture on the %s side", roles[x])
				c.idle(c.total - 5*sec)
				c.done = true
				return
			}
		}
	case "open":
		c.done = true
		return
	case "rst":
		x := c.rng.IntN(2)
		c.send(x, c.now, fRST, 0, nil)
		c.truth.c.End = TruthEnd{How: "rst", By: roles[x]}
		c.done = true
		return
	}
	// fin: "exit" at the shell, or ssh -N killed on either side.
	x := 0
	t := c.now
	if c.channel {
		c.typing(4, 0)
		t = c.records(1, c.t+ms, 25, 5, 5) // exit-status, EOF, CLOSE
		t = c.records(0, c.reply(0, t), 5)
	} else {
		x = c.rng.IntN(2)
	}
	y := 1 - x
	c.send(x, t+ms, fFIN, 0, nil)
	c.send(y, c.reply(y, t+ms), fFIN, 0, nil)
	c.send(x, c.reply(x, c.t), 0, 0, nil)
	c.truth.c.End = TruthEnd{How: "fin", By: roles[x]}
	c.done = true
}
