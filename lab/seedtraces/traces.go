package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"time"
)

// The seed document's packets, verbatim (shared/seeds/000_14b9e56f8235ac02.txt).
// The document's sixth line of the first trace is cut off after
// "10:37:31.790058 IP 10.79.102.248.61622 > 10.124"; it is completed below
// (serverAliveTruncatedAck) from the exchange's pattern.
var serverAliveText = []string{
	"10:37:11.741159 IP 10.79.102.248.61622 > 10.124.202.230.ssh: Flags [P.], seq 2770:2822, ack 3790, win 2048, options [nop,nop,TS val 2022184725 ecr 1297845101], length 52",
	"10:37:11.767047 IP 10.124.202.230.ssh > 10.79.102.248.61622: Flags [P.], seq 3790:3818, ack 2822, win 287, options [nop,nop,TS val 1297865128 ecr 2022184725], length 28",
	"10:37:11.767183 IP 10.79.102.248.61622 > 10.124.202.230.ssh: Flags [.], ack 3818, win 2047, options [nop,nop,TS val 2022184750 ecr 1297865128], length 0",
	"10:37:31.769396 IP 10.79.102.248.61622 > 10.124.202.230.ssh: Flags [P.], seq 2822:2874, ack 3818, win 2048, options [nop,nop,TS val 2022204561 ecr 1297865128], length 52",
	"10:37:31.789991 IP 10.124.202.230.ssh > 10.79.102.248.61622: Flags [P.], seq 3818:3846, ack 2874, win 287, options [nop,nop,TS val 1297885154 ecr 2022204561], length 28",
}

const serverAliveTruncatedAck = "10:37:31.790058" // timestamp of the cut-off sixth line

var clientAliveText = []string{
	"17:13:26.391546 IP 10.124.202.230.ssh > 10.79.109.185.53650: Flags [P.], seq 3353822173:3353822233, ack 532087736, win 287, options [nop,nop,TS val 1321639748 ecr 2045603805], length 60",
	"17:13:26.391630 IP 10.79.109.185.53650 > 10.124.202.230.ssh: Flags [.], ack 60, win 2047, options [nop,nop,TS val 2045703098 ecr 1321639748], length 0",
	"17:13:26.391814 IP 10.79.109.185.53650 > 10.124.202.230.ssh: Flags [P.], seq 1:37, ack 60, win 2048, options [nop,nop,TS val 2045703098 ecr 1321639748], length 36",
	"17:13:26.411743 IP 10.124.202.230.ssh > 10.79.109.185.53650: Flags [.], ack 37, win 287, options [nop,nop,TS val 1321639769 ecr 2045703098], length 0",
	"17:15:06.431196 IP 10.124.202.230.ssh > 10.79.109.185.53650: Flags [P.], seq 60:120, ack 37, win 287, options [nop,nop,TS val 1321739769 ecr 2045703098], length 60",
	"17:15:06.431284 IP 10.79.109.185.53650 > 10.124.202.230.ssh: Flags [.], ack 120, win 2047, options [nop,nop,TS val 2045802573 ecr 1321739769], length 0",
	"17:15:06.431406 IP 10.79.109.185.53650 > 10.124.202.230.ssh: Flags [P.], seq 37:73, ack 120, win 2048, options [nop,nop,TS val 2045802573 ecr 1321739769], length 36",
	"17:15:06.452580 IP 10.124.202.230.ssh > 10.79.109.185.53650: Flags [.], ack 73, win 287, options [nop,nop,TS val 1321739806 ecr 2045802573], length 0",
}

// Capture date. The document prints times only; the sshd log lines say
// "Feb 26" (UTC, 8 h behind tcpdump's local clock). Times are written as
// printed, as UTC, on 2026-02-26; the second trace has no date of its own and
// gets the same one.
var captureDay = time.Date(2026, time.February, 26, 0, 0, 0, 0, time.UTC)

// First trace: tcpdump printed seq/ack relative to an ISN the text does not
// show (absolute = ISN + relative). We pick ISN 0 for both sides, so absolute
// equals the printed relative numbers and `tcpdump -S` reproduces the
// document's lines exactly.
const (
	serverAliveClientISN = 0
	serverAliveServerISN = 0
)

// Session bounds of the first trace from the document's sshd log (02:36:51 /
// 02:46:51 UTC = 10:36:51 / 10:46:51 on tcpdump's clock). Probes are filled in
// while they fall before the logout; the count follows from that.
var (
	serverAliveLogin  = clock("10:36:51.000000")
	serverAliveLogout = clock("10:46:51.000000")
)

// Second trace: ClientAliveInterval 100 and TMOUT 600; the text gives no login
// or logout time, so 6 probes (10 minutes / 100 s) as the document describes.
const clientAliveProbes = 6

// pkt is one TCP segment of a trace; Seq and Ack are absolute.
type pkt struct {
	T            time.Time
	FromClient   bool
	PSH          bool // flags [P.] when set, [.] otherwise (ACK is always set)
	FIN          bool
	Seq, Ack     uint32
	Win          uint16
	TSval, TSecr uint32
	Len          int
}

type trace struct {
	File      string
	Scenario  string
	Source    string
	Client    netip.AddrPort
	Server    netip.AddrPort
	ClientMAC net.HardwareAddr
	ServerMAC net.HardwareAddr
	Pkts      []pkt
	Notes     []string
	// Logout: packets from then on are the session's end, not keepalives;
	// Cause and CauseEvidence say why it ended (zero Logout: open).
	Logout               time.Time
	Cause, CauseEvidence string
}

func buildServerAlive() (*trace, error) {
	tr := &trace{
		File:      "seed-serveralive.pcap",
		Scenario:  "seed 000: ServerAliveInterval 20 (client probes 52 B, server replies 28 B), TMOUT 600",
		Source:    "shared seeds 000_14b9e56f8235ac02.txt, first trace",
		Client:    netip.MustParseAddrPort("10.79.102.248:61622"),
		Server:    netip.MustParseAddrPort("10.124.202.230:22"),
		ClientMAC: net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x01, 0x01},
		ServerMAC: net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x01, 0x02},
	}
	known, err := parseTrace(tr, serverAliveText, false, serverAliveClientISN, serverAliveServerISN)
	if err != nil {
		return nil, err
	}
	p0, r0, a0, p1, r1 := known[0], known[1], known[2], known[3], known[4]
	// TS clocks: linear through the document's values (client ~0.990 ticks/ms,
	// server ~1.000 ticks/ms), checked against the one the line does not anchor.
	cliTS := linearTS(p0.T, p0.TSval, p1.T, p1.TSval)
	srvTS := linearTS(r0.T, r0.TSval, r1.T, r1.TSval)
	if got := cliTS(a0.T); got != a0.TSval {
		return nil, fmt.Errorf("serveralive: client TS model gives %d for the text's ACK, want %d", got, a0.TSval)
	}
	tr.Pkts = append(tr.Pkts, known...)

	// Sixth line (cut off in the text): the client's ACK of the second reply.
	ack := func(reply pkt, t time.Time) pkt {
		return pkt{T: t, FromClient: true, Seq: reply.Ack, Ack: reply.Seq + uint32(reply.Len),
			Win: a0.Win, TSval: cliTS(t), TSecr: reply.TSval}
	}
	tr.Pkts = append(tr.Pkts, ack(r1, clock(serverAliveTruncatedAck)))

	// Further probes. OpenSSH re-arms the ServerAlive timer on every read from
	// the server, so the next probe leaves ~interval after the previous reply
	// (the text: 20.002349 s after it); reply latency 20-30 ms (text: 25.9 and
	// 20.6 ms), client ACK 60-140 µs after the reply (text: 136 and 67 µs).
	reply := r1
	var next time.Time // the first probe that would fall after the logout
	for k := 2; ; k++ {
		t := reply.T.Add(20*time.Second + us(det("sa-gap", k, 1500, 3500)))
		if !t.Before(serverAliveLogout) {
			next = t
			if t.Before(serverAliveLogout.Add(time.Second)) {
				return nil, fmt.Errorf("serveralive: probe %d at %s falls within the logout second; ambiguous", k+1, t.Format("15:04:05.000000"))
			}
			break
		}
		probe := pkt{T: t, FromClient: true, PSH: true, Seq: reply.Ack, Ack: reply.Seq + uint32(reply.Len),
			Win: p0.Win, TSval: cliTS(t), TSecr: reply.TSval, Len: p0.Len}
		rt := t.Add(us(det("sa-rtt", k, 20000, 30000)))
		rep := pkt{T: rt, PSH: true, Seq: probe.Ack, Ack: probe.Seq + uint32(probe.Len),
			Win: r0.Win, TSval: srvTS(rt), TSecr: probe.TSval, Len: r0.Len}
		tr.Pkts = append(tr.Pkts, probe, rep, ack(rep, rt.Add(us(det("sa-ack", k, 60, 140)))))
		reply = rep
	}
	if !tr.Pkts[0].T.After(serverAliveLogin) {
		return nil, fmt.Errorf("serveralive: first probe before login")
	}
	probes := len(tr.Pkts) / 3
	tr.Pkts = append(tr.Pkts, serverAliveEnd(reply, cliTS, srvTS, a0.Win, r0.Win)...)
	tr.Logout = serverAliveLogout
	tr.Cause = "idle-logout"
	tr.CauseEvidence = "the document's sshd log: session opened 02:36:51, \"session closed for user test\" 02:46:51 (10:46:51 on tcpdump's clock) with TMOUT=600: bash logged the idle user out; the end's packets are shaped on the lab's tmout-serveralive capture"
	tr.Notes = []string{
		"Rebuilt from the seed document's first tcpdump trace: the 5 printed packets exactly (timestamps as printed, treated as UTC on 2026-02-26; addresses, ports, seq/ack, flags, raw windows, TS val/ecr, lengths); the 6th printed line is cut off after its timestamp 10:37:31.790058 and is completed as the client's ACK of the second reply (ack 3846, win 2047, TS ecr 1297885154).",
		fmt.Sprintf("Elided probes filled in: %d probes in all, each probe ~20 s + 1.5-3.5 ms after the previous reply (OpenSSH re-arms ServerAlive on every read), reply 20-30 ms after the probe, client ACK 60-140 µs after the reply; TS clocks continue linearly through the printed values (client ~0.990 ticks/ms, server ~1.000).", probes),
		fmt.Sprintf("Probe count follows from the sshd log: login 02:36:51 UTC (10:36:51 on tcpdump's clock, the first probe's TS ecr dates the last server packet to 10:36:51.74), session closed by TMOUT=600 at 10:46:51; the next probe would leave at %s, after the logout, so %d probes, not 600/20 = 30.", next.Format("15:04:05.000"), probes),
		"seq/ack: tcpdump printed them relative to an ISN the text does not show; ISN 0 is assumed for both sides, so absolute = printed (tcpdump -S shows the document's numbers; plain tcpdump, lacking the SYN, prints the first packet absolute and the rest relative to it).",
		"Window scaling is unknown (no handshake): the raw window values are written as printed (client 2048/2047, server 287).",
		"The session end is filled in at 10:46:51, when the sshd log says the session closed (TMOUT=600 logged the idle user out; no probe falls in that second). Its packets follow the lab's tmout-serveralive capture (OpenSSH 9.2, chacha20-poly1305, TMOUT logout): the server's 92 B (bash's auto-logout message) and 176 B (exit-status, EOF, close), the client's ACKs, its 36 B and 60 B, then the server's FIN, the client's FIN and the last ACK; one-way delay ~10 ms (half the probes' 20-30 ms reply latency), the client's own packets 60-300 µs apart as in the text. No handshake is fabricated: the capture starts at the first printed probe.",
		"Payload bytes are deterministic pseudo-random (they stand for chacha20-poly1305 ciphertext); MACs are made-up locally administered addresses; IPv4 TTL 64, DF set.",
	}
	return tr, nil
}

// serverAliveEnd is the first trace's end: bash's TMOUT logout at
// serverAliveLogout, seen from the client, after the last probe exchange
// (last is its reply). Sizes and order are those of the lab capture
// tmout-serveralive (OpenSSH 9.2p1 both ends, chacha20-poly1305).
func serverAliveEnd(last pkt, cliTS, srvTS func(time.Time) uint32, cliWin, srvWin uint16) []pkt {
	cseq, sseq := last.Ack, last.Seq+uint32(last.Len) // next seq of each side
	var out []pkt
	at := serverAliveLogout.Add(10 * time.Millisecond) // server's send + one-way delay
	var lastSrvTS uint32
	srv := func(t time.Time, n int, psh, fin bool) {
		sent := t.Add(-10 * time.Millisecond)
		lastSrvTS = srvTS(sent)
		out = append(out, pkt{T: t, PSH: psh, FIN: fin, Seq: sseq, Ack: cseq, Win: srvWin, TSval: lastSrvTS, TSecr: cliTS(sent.Add(-10 * time.Millisecond))})
		sseq += uint32(n)
		if fin {
			sseq++
		}
	}
	cli := func(t time.Time, n int, psh, fin bool) {
		out = append(out, pkt{T: t, FromClient: true, PSH: psh, FIN: fin, Seq: cseq, Ack: sseq, Win: cliWin, TSval: cliTS(t), TSecr: lastSrvTS, Len: n})
		cseq += uint32(n)
		if fin {
			cseq++
		}
	}
	srvData := func(t time.Time, n int) {
		srv(t, n, true, false)
		out[len(out)-1].Len = n
	}
	srvData(at, 92)                                   // "timed out waiting for input: auto-logout"
	cli(at.Add(us(80)), 0, false, false)              // ACK
	srvData(at.Add(us(640)), 176)                     // exit-status, EOF, close
	cli(at.Add(us(720)), 0, false, false)             // ACK
	cli(at.Add(us(900)), 36, true, false)             // the client's EOF/close
	cli(at.Add(us(1030)), 60, true, false)            //
	srv(at.Add(21*time.Millisecond), 0, false, false) // ACK of both
	srv(at.Add(21600*time.Microsecond), 0, false, true)
	cli(at.Add(21700*time.Microsecond), 0, false, true)
	srv(at.Add(42*time.Millisecond), 0, false, false)
	return out
}

func buildClientAlive() (*trace, error) {
	tr := &trace{
		File:      "seed-clientalive.pcap",
		Scenario:  "seed 000: ClientAliveInterval 100 (server probes 60 B, client replies 36 B), TMOUT 600",
		Source:    "shared seeds 000_14b9e56f8235ac02.txt, second trace",
		Client:    netip.MustParseAddrPort("10.79.109.185:53650"),
		Server:    netip.MustParseAddrPort("10.124.202.230:22"),
		ClientMAC: net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x02, 0x01},
		ServerMAC: net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x02, 0x02},
	}
	// The first printed packet is absolute, the rest relative to it (tcpdump's
	// rule when the capture has no SYN).
	known, err := parseTrace(tr, clientAliveText, true, 0, 0)
	if err != nil {
		return nil, err
	}
	p0, ca0, cr0, sa0, p1, ca1, cr1 := known[0], known[1], known[2], known[3], known[4], known[5], known[6]
	srvTS := linearTS(p0.T, p0.TSval, p1.T, p1.TSval)
	cliTS := linearTS(ca0.T, ca0.TSval, ca1.T, ca1.TSval)
	for _, c := range []pkt{cr0, cr1} {
		if got := cliTS(c.T); got != c.TSval {
			return nil, fmt.Errorf("clientalive: client TS model gives %d at %s, want %d", got, c.T.Format("15:04:05.000000"), c.TSval)
		}
	}
	tr.Pkts = append(tr.Pkts, known...)

	// Further probes every 100.035-100.045 s (text: 100.039650 s); client ACK
	// 70-100 µs after the probe (text: 84, 88), its reply 100-200 µs after that
	// (text: 184, 122), server ACK 19.5-22 ms after the reply (text: 19.9, 21.2),
	// its TS val 0-16 ticks above the linear server clock (text: 1 and 16).
	last := known[len(known)-4:]
	probe, crep := last[0], last[2]
	for k := 2; k < clientAliveProbes; k++ {
		t := probe.T.Add(us(det("ca-gap", k, 100035000, 100045000)))
		np := pkt{T: t, PSH: true, Seq: probe.Seq + uint32(probe.Len), Ack: crep.Seq + uint32(crep.Len),
			Win: p0.Win, TSval: srvTS(t), TSecr: crep.TSval, Len: p0.Len}
		at := t.Add(us(det("ca-cack", k, 70, 100)))
		ca := pkt{T: at, FromClient: true, Seq: np.Ack, Ack: np.Seq + uint32(np.Len),
			Win: ca0.Win, TSval: cliTS(at), TSecr: np.TSval}
		rt := at.Add(us(det("ca-crep", k, 100, 200)))
		cr := pkt{T: rt, FromClient: true, PSH: true, Seq: ca.Seq, Ack: ca.Ack,
			Win: cr0.Win, TSval: cliTS(rt), TSecr: np.TSval, Len: cr0.Len}
		st := rt.Add(us(det("ca-sack", k, 19500, 22000)))
		sa := pkt{T: st, Seq: cr.Ack, Ack: cr.Seq + uint32(cr.Len),
			Win: sa0.Win, TSval: srvTS(st) + uint32(det("ca-sts", k, 0, 16)), TSecr: cr.TSval}
		tr.Pkts = append(tr.Pkts, np, ca, cr, sa)
		probe, crep = np, cr
	}
	tr.Notes = []string{
		"Rebuilt from the seed document's second tcpdump trace: the 8 printed packets exactly (timestamps as printed, treated as UTC on 2026-02-26 since the text gives no date for this trace; addresses, ports, seq/ack, flags, raw windows, TS val/ecr, lengths).",
		"seq/ack: tcpdump printed the first packet absolute (seq 3353822173, ack 532087736) and the rest relative to it, so server seq = 3353822173 + printed and client seq = 532087735 + printed.",
		fmt.Sprintf("Elided probes filled in: %d probes in all (ClientAliveInterval 100, TMOUT 600: 10 minutes), spaced 100.035-100.045 s; client ACK 70-100 µs after the probe, client reply 100-200 µs later, server ACK 19.5-22 ms after the reply; TS clocks continue linearly through the printed values (client ~0.994 ticks/ms, server ~1.000).", clientAliveProbes),
		"The text gives no login or logout time for this trace; 6 probes is the document's 10 minutes / 100 s. By the first probe's TS ecr the client's last packet before it was ~99.9 s earlier, so if that was the last prompt the 6th probe would coincide with the TMOUT logout.",
		"Window scaling is unknown (no handshake): the raw window values are written as printed (client 2047/2048, server 287).",
		"No handshake and no session end are fabricated: the capture starts at the first printed probe and ends after the last probe exchange, the connection still open.",
		"Payload bytes are deterministic pseudo-random (they stand for chacha20-poly1305 ciphertext); MACs are made-up locally administered addresses; IPv4 TTL 64, DF set.",
	}
	return tr, nil
}

// ---- parsing the document's tcpdump lines ----

var lineRE = regexp.MustCompile(`^(\d{2}:\d{2}:\d{2}\.\d{6}) IP (\d+\.\d+\.\d+\.\d+)\.(\w+) > (\d+\.\d+\.\d+\.\d+)\.(\w+): ` +
	`Flags \[([^\]]*)\], (?:seq (\d+):(\d+), )?ack (\d+), win (\d+), options \[nop,nop,TS val (\d+) ecr (\d+)\], length (\d+)$`)

// parseTrace turns printed tcpdump lines into absolute packets. If
// firstAbsolute, the first line is absolute and the others relative to it
// (tcpdump without a SYN in view: sender base = its seq, peer base = its ack-1);
// otherwise every line is relative to the given ISNs.
func parseTrace(tr *trace, lines []string, firstAbsolute bool, clientISN, serverISN uint32) ([]pkt, error) {
	base := map[bool]uint32{true: clientISN, false: serverISN} // keyed by FromClient
	next := map[bool]uint32{}                                  // next seq per side, once known
	var out []pkt
	for i, line := range lines {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s: cannot parse line %d: %q", tr.File, i+1, line)
		}
		src, err := endpoint(m[2], m[3])
		if err != nil {
			return nil, err
		}
		dst, err := endpoint(m[4], m[5])
		if err != nil {
			return nil, err
		}
		var p pkt
		switch {
		case src == tr.Client && dst == tr.Server:
			p.FromClient = true
		case src == tr.Server && dst == tr.Client:
		default:
			return nil, fmt.Errorf("%s line %d: endpoints %s > %s are not the trace's", tr.File, i+1, src, dst)
		}
		p.T = clock(m[1])
		switch m[6] {
		case "P.":
			p.PSH = true
		case ".":
		default:
			return nil, fmt.Errorf("%s line %d: unexpected flags [%s]", tr.File, i+1, m[6])
		}
		n := func(s string) uint32 { v, _ := strconv.ParseUint(s, 10, 32); return uint32(v) }
		p.Win = uint16(n(m[10]))
		p.TSval, p.TSecr = n(m[11]), n(m[12])
		p.Len = int(n(m[13]))
		ack := n(m[9])
		if i == 0 && firstAbsolute {
			if m[7] == "" {
				return nil, fmt.Errorf("%s: first line must show seq", tr.File)
			}
			base[p.FromClient] = n(m[7])
			base[!p.FromClient] = ack - 1
			p.Seq, p.Ack = n(m[7]), ack
		} else {
			p.Ack = base[!p.FromClient] + ack
			if m[7] != "" {
				p.Seq = base[p.FromClient] + n(m[7])
				if n(m[8])-n(m[7]) != uint32(p.Len) {
					return nil, fmt.Errorf("%s line %d: seq range and length disagree", tr.File, i+1)
				}
			} else {
				s, ok := next[p.FromClient]
				if !ok {
					return nil, fmt.Errorf("%s line %d: seq unknown", tr.File, i+1)
				}
				p.Seq = s
			}
		}
		next[p.FromClient] = p.Seq + uint32(p.Len)
		if _, ok := next[!p.FromClient]; !ok {
			next[!p.FromClient] = p.Ack
		}
		out = append(out, p)
	}
	return out, nil
}

func endpoint(ip, port string) (netip.AddrPort, error) {
	if port == "ssh" {
		port = "22"
	}
	return netip.ParseAddrPort(ip + ":" + port)
}

// clock parses "hh:mm:ss.uuuuuu" on the capture day (UTC).
func clock(s string) time.Time {
	t, err := time.Parse("15:04:05.000000", s)
	if err != nil {
		panic(err)
	}
	return captureDay.Add(t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)))
}

// linearTS returns a TCP timestamp clock through (t0,v0) and (t1,v1), at
// microsecond resolution, rounding down.
func linearTS(t0 time.Time, v0 uint32, t1 time.Time, v1 uint32) func(time.Time) uint32 {
	span := t1.Sub(t0).Microseconds()
	ticks := int64(v1 - v0)
	return func(t time.Time) uint32 {
		return v0 + uint32(t.Sub(t0).Microseconds()*ticks/span)
	}
}

func us(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

// det returns a deterministic pseudo-random integer in [lo, hi] for (label, i).
func det(label string, i int, lo, hi int64) int64 {
	h := sha256.Sum256([]byte(fmt.Sprintf("sshalive/seedtraces %s %d", label, i)))
	return lo + int64(binary.BigEndian.Uint64(h[:8])%uint64(hi-lo+1))
}

// payloadBytes returns n deterministic pseudo-random bytes for (label, i).
func payloadBytes(label string, i, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	for c := 0; len(out) < n; c++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("sshalive/seedtraces payload %s %d %d", label, i, c)))
		out = append(out, h[:]...)
	}
	return out[:n]
}
