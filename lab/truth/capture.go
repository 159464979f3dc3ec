package main

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

type capture struct {
	File        string       `json:"file"`
	Scenario    string       `json:"scenario"`
	Synthetic   bool         `json:"synthetic"`
	Made        made         `json:"made"`
	Format      string       `json:"format"`
	LinkType    int          `json:"link_type"`
	Snaplen     int          `json:"snaplen"`
	Packets     int          `json:"packets"`
	TCPPackets  int          `json:"tcp_packets"`
	DurationS   float64      `json:"duration_s"`
	Connections []connection `json:"connections"`
	Notes       []string     `json:"notes"`
}

type made struct {
	SSHOptions []string                     `json:"ssh_options"`
	SSHCommand string                       `json:"ssh_command"`
	SSHBase    string                       `json:"ssh_base"`
	SSHDConfig []string                     `json:"sshd_config"`
	Sysctls    map[string]map[string]string `json:"sysctls"`
	Port       int                          `json:"port"`
	Cipher     string                       `json:"cipher"`
	MAC        string                       `json:"mac"`
	Capture    string                       `json:"capture"`
	CaptureIn  string                       `json:"capture_in,omitempty"` // namespace: client or server
	Fault      string                       `json:"fault,omitempty"`
	FaultAtS   float64                      `json:"fault_at_s,omitempty"` // seconds after the first packet
	SSHExit    *int                         `json:"ssh_exit,omitempty"`
	Clients    []madeClient                 `json:"clients,omitempty"`
	Source     string                       `json:"source,omitempty"` // synthetic entries (lab/seedtraces)
	// another implementation on one side (or another OpenSSH build): its
	// command line as the lab ran it
	ClientImpl string `json:"client_impl,omitempty"`
	ServerImpl string `json:"server_impl,omitempty"`
	// negotiated compression (client->server), from the OpenSSH end's
	// "kex: client->server ... compression: X" line; what the lab asked for,
	// when it said (meta compression)
	Compression       string `json:"compression,omitempty"`
	CompressionConfig string `json:"compression_config,omitempty"`
}

type madeClient struct {
	SSHOptions []string `json:"ssh_options"`
	SSHCommand string   `json:"ssh_command"`
	SSHExit    *int     `json:"ssh_exit,omitempty"`
	Connection string   `json:"connection"` // client ip:port it used
}

type stats struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

type sshKA struct {
	Sender        string `json:"sender"`
	Message       string `json:"message"`
	RequestName   string `json:"request_name"`   // "" for SSH_MSG_IGNORE
	ReplyExpected bool   `json:"reply_expected"` // want_reply=1 (by design of the message)
	Probes        int    `json:"probes"`
	Answered      int    `json:"answered"`
	ProbeBytes    int    `json:"probe_bytes"`
	ReplyBytes    int    `json:"reply_bytes"`
	IntervalS     *stats `json:"interval_s,omitempty"`
	ProbesOnWire  int    `json:"probes_on_wire"`
	// witnessed probes of another implementation sent without compression
	// (one size per message): how many went out in a segment together with
	// other packets (a keystroke, a channel close), and those segments' sizes
	SharedSegments     int       `json:"shared_segments,omitempty"`
	SharedSegmentBytes []int     `json:"shared_segment_bytes,omitempty"`
	Retransmissions    int       `json:"retransmissions"`
	ProbeAtS           []float64 `json:"probe_at_s"`
	Setting            *setting  `json:"setting,omitempty"` // what produced them, as the lab configured it
}

type tcpKA struct {
	Sender      string    `json:"sender"`
	Probes      int       `json:"probes"`
	Answered    int       `json:"answered"`
	ProbeBytes  int       `json:"probe_bytes"`
	IntervalS   *stats    `json:"interval_s,omitempty"`
	IdleBeforeS float64   `json:"idle_before_first_s"`
	ProbeAtS    []float64 `json:"probe_at_s"`
}

type end struct {
	How string  `json:"how"`
	By  string  `json:"by"`
	AtS float64 `json:"at_s,omitempty"`
}

type gaveUp struct {
	By  string  `json:"by"`
	Log string  `json:"log"`
	AtS float64 `json:"at_s"`
}

type connection struct {
	Client          string          `json:"client"`
	Server          string          `json:"server"`
	Implementations implementations `json:"implementations"`
	Packets         int             `json:"packets"`
	Handshake       bool            `json:"handshake"`
	SSHKeepalives   []sshKA         `json:"ssh_keepalives"`
	TCPKeepalives   []tcpKA         `json:"tcp_keepalives"`
	End             end             `json:"end"`
	GaveUp          *gaveUp         `json:"gave_up,omitempty"`
	// Cause is the true end cause (the analyzer's end.cause vocabulary),
	// from the endpoints' logs and what the lab did; CauseEvidence says how
	// it is known.
	Cause         string   `json:"cause,omitempty"`
	CauseEvidence string   `json:"cause_evidence,omitempty"`
	Evidence      []string `json:"evidence"`
}

// conn is one TCP connection in a capture.
type conn struct {
	client, server netip.AddrPort
	pkts           []*pkt
	handshake      bool
	synT           float64
	lc, ls         logFile // the endpoints' logs, when tied to this connection
	cm             *clientMeta
}

func (c *conn) fromClient(p *pkt) bool { return p.src == c.client }

func epString(a netip.AddrPort) string { return a.String() } // IPv6 as [addr]:port

func r3(x float64) float64 { return math.Round(x*1000) / 1000 }

func buildCapture(dir, out string) (*capture, string, error) {
	m, err := readMeta(filepath.Join(dir, "meta.tsv"))
	if err != nil {
		return nil, "", err
	}
	if m.file == "" {
		return nil, "", fmt.Errorf("scenario did not finish (no file in meta.tsv)")
	}
	path := filepath.Join(out, m.file)
	format, lt, snap, err := fileHeader(path)
	if err != nil {
		return nil, "", err
	}
	pkts, err := readWire(path)
	if err != nil {
		return nil, "", err
	}
	c := &capture{File: m.file, Scenario: m.scenario, Format: format, LinkType: lt, Snaplen: snap,
		Packets: len(pkts), Connections: []connection{}, Notes: []string{}}
	c.Made = made{SSHDConfig: m.sshdConfig, Sysctls: m.sysctls, Port: m.port, Capture: m.captureCmd, CaptureIn: m.capSide,
		Fault: strings.Join(m.faults, "; "), SSHOptions: []string{},
		SSHBase: "ssh -vvv -F /dev/null -i KEY -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=DEBUG3 -p PORT"}
	if c.Made.SSHDConfig == nil {
		c.Made.SSHDConfig = []string{}
	}
	if m.converted != "" {
		c.Made.Capture += "; " + m.converted
	}
	t0 := 0.0
	if len(pkts) > 0 {
		t0 = pkts[0].t
		c.DurationS = r3(pkts[len(pkts)-1].t - t0)
	}
	if m.faultAt > 0 {
		c.Made.FaultAtS = r3(m.faultAt - t0)
	}
	capStart, capStop := m.capStart, m.capStop
	if capStart == 0 && len(pkts) > 0 {
		capStart, capStop = pkts[0].t, pkts[len(pkts)-1].t
	}

	// connections by tshark stream index
	byStream := map[int]*conn{}
	var conns []*conn
	for i := range pkts {
		p := &pkts[i]
		if !p.isTCP {
			continue
		}
		c.TCPPackets++
		cn := byStream[p.stream]
		if cn == nil {
			cn = &conn{}
			byStream[p.stream] = cn
			conns = append(conns, cn)
		}
		cn.pkts = append(cn.pkts, p)
		if p.syn && !p.ackF && !cn.handshake {
			cn.handshake, cn.synT = true, p.t
			cn.client, cn.server = p.src, p.dst
		}
	}
	for _, cn := range conns {
		if cn.handshake {
			continue
		}
		p := cn.pkts[0]
		switch {
		case int(p.dst.Port()) == m.port:
			cn.client, cn.server = p.src, p.dst
		case int(p.src.Port()) == m.port:
			cn.client, cn.server = p.dst, p.src
		case p.src.Port() > p.dst.Port():
			cn.client, cn.server = p.src, p.dst
		default:
			cn.client, cn.server = p.dst, p.src
		}
	}

	// logs: each client log to its connection (the SYN right after its
	// "Connecting to" line), sshd's log to the only connection unless shared
	version := ""
	var ls logFile
	if l, err := readLog(filepath.Join(dir, "sshd.log")); err == nil {
		ls = l
	}
	used := map[*conn]bool{}
	for i, cm := range m.clients {
		lc, err := readLog(filepath.Join(dir, cm.log+".log"))
		if err != nil {
			return nil, "", err
		}
		kexMade(&c.Made, lc)
		if v := sshdVersion(ls); v != "" {
			version = v
		} else if l, ok := lc.find("remote software version "); ok {
			if sm := reRemote.FindStringSubmatch(l.s); sm != nil && strings.HasPrefix(sm[1], "OpenSSH_") {
				version = sm[1]
			}
		}
		var best *conn
		if len(conns) == 1 && len(m.clients) == 1 {
			best = conns[0]
		} else if l, ok := lc.find("debug1: Connecting to "); ok {
			for _, cn := range conns {
				if used[cn] || !cn.handshake || cn.synT < l.t-0.01 {
					continue
				}
				if best == nil || cn.synT < best.synT {
					best = cn
				}
			}
		}
		mc := madeClient{SSHOptions: cm.options, SSHCommand: cm.command, SSHExit: cm.exit}
		if mc.SSHOptions == nil {
			mc.SSHOptions = []string{}
		}
		if best != nil {
			used[best] = true
			best.lc, best.cm = lc, cm
			mc.Connection = epString(best.client)
		}
		if i == 0 {
			c.Made.SSHOptions, c.Made.SSHCommand, c.Made.SSHExit = mc.SSHOptions, mc.SSHCommand, mc.SSHExit
		}
		if len(m.clients) > 1 {
			c.Made.Clients = append(c.Made.Clients, mc)
		}
	}
	if !m.sshdLogShared && len(conns) == 1 {
		conns[0].ls = ls
	}
	if c.Made.Cipher == "" && !m.sshdLogShared {
		kexMade(&c.Made, ls) // no OpenSSH client: the server's view
	}
	if len(m.clients) == 0 {
		c.Made.SSHBase = "" // no OpenSSH ssh in this scenario
	}
	c.Made.ClientImpl, c.Made.ServerImpl = implCommands(m)
	c.Made.CompressionConfig = m.compression
	if len(m.clients) == 0 && version == "" {
		version = sshdVersion(ls)
	}

	for _, cn := range conns {
		c.Connections = append(c.Connections, analyzeConn(cn, m, t0, capStart, capStop, &c.Notes))
	}
	sort.SliceStable(c.Connections, func(i, j int) bool {
		return c.Connections[i].Packets > 0 && firstT(conns, c.Connections[i].Client) < firstT(conns, c.Connections[j].Client)
	})
	c.Notes = append(c.Notes, m.notes...)
	return c, version, nil
}

func firstT(conns []*conn, client string) float64 {
	for _, cn := range conns {
		if epString(cn.client) == client {
			return cn.pkts[0].t
		}
	}
	return 0
}

// kexMade takes the negotiated cipher, MAC and compression from the first
// OpenSSH log that names them ("debug1: kex: client->server cipher: ...").
func kexMade(md *made, l logFile) {
	if md.Cipher != "" {
		return
	}
	if x, ok := l.find("debug1: kex: client->server cipher: "); ok {
		if sm := reKex.FindStringSubmatch(x.s); sm != nil {
			md.Cipher = sm[1]
			if sm[2] != "<implicit>" {
				md.MAC = sm[2]
			}
			md.Compression = sm[3]
		}
	}
}

func sshdVersion(ls logFile) string {
	if l, ok := ls.find("debug1: Local version string SSH-2.0-"); ok {
		return strings.TrimPrefix(l.s[strings.Index(l.s, "SSH-2.0-"):], "SSH-2.0-")
	}
	return ""
}

// window lists the data segments in direction fromClient, not
// retransmissions and not used yet, inside [lo, hi].
func window(cn *conn, fromClient bool, lo, hi float64, used map[*pkt]bool) []*pkt {
	var out []*pkt
	for _, p := range cn.pkts {
		if p.t >= lo && p.t <= hi && p.tcpLen > 0 && !p.syn && !p.retrans && !used[p] && cn.fromClient(p) == fromClient {
			out = append(out, p)
		}
	}
	return out
}

// choose picks among candidate segments for a packet logged at t: the one of
// the size this connection's unambiguous ties showed (size > 0), else the
// closest in time. Log stamps can lag the wire by tens of ms on a busy
// machine, so time alone cannot tell a probe from a keystroke sent 20 ms later.
func choose(cands []*pkt, t float64, size int) *pkt {
	var best *pkt
	for _, p := range cands {
		if size > 0 && best != nil && (best.tcpLen == size) != (p.tcpLen == size) {
			if p.tcpLen == size {
				best = p
			}
			continue
		}
		if best == nil || math.Abs(p.t-t) < math.Abs(best.t-t) {
			best = p
		}
	}
	return best
}

func analyzeConn(cn *conn, m *meta, t0, capStart, capStop float64, notes *[]string) connection {
	out := connection{Client: epString(cn.client), Server: epString(cn.server), Packets: len(cn.pkts),
		Handshake: cn.handshake, SSHKeepalives: []sshKA{}, TCPKeepalives: []tcpKA{}, Evidence: []string{}}
	rel := func(t float64) float64 { return r3(t - t0) }

	// ---- SSH keepalives: logged probes tied to their segments
	var probes []probe
	if cn.lc != nil {
		probes = append(probes, clientProbes(cn.lc, cn.ls)...)
	}
	if cn.ls != nil {
		probes = append(probes, serverProbes(cn.ls, cn.lc)...)
	}
	// another implementation on one side: its OpenSSH peer is the witness
	out.Implementations = connImpls(cn, m)
	var witnessEv []string
	for _, w := range []struct {
		sender string
		id     *implID
		l      logFile
		own    logFile
		name   string
	}{{"client", out.Implementations.Client, cn.ls, cn.lc, "sshd"}, {"server", out.Implementations.Server, cn.lc, cn.ls, "ssh"}} {
		if w.l == nil || w.own != nil || w.id == nil || isOpenSSH(w.id) {
			continue
		}
		ps, comp := witnessProbes(w.l, w.sender, m.witnessIgnore)
		probes = append(probes, ps...)
		witnessEv = append(witnessEv, witnessEvidence(w.l, w.name, w.sender, ps, comp))
	}
	usedSeg := map[*pkt]bool{}
	type tied struct {
		probe
		seg, reply *pkt
		at         float64
		lo, hi     float64 // where its segment may be
	}
	bySender := map[string][]*tied{}
	var all []*tied
	for _, p := range probes {
		if p.sendT < capStart-0.002 || p.sendT > capStop {
			continue // sent before the capture started or after it stopped
		}
		tp := &tied{probe: p, at: p.sendT, lo: p.sendT - 0.25, hi: p.sendT + 0.3}
		if p.recvT > 0 {
			tp.hi = math.Max(p.recvT, p.sendT) + 0.05
		}
		if p.witness {
			// only the receive stamp is known: the segment came shortly before it
			tp.lo, tp.hi = p.recvT-0.3, p.recvT+0.01
		}
		all = append(all, tp)
		bySender[p.sender] = append(bySender[p.sender], tp)
	}
	// Probes: first those with a single candidate segment, then the rest,
	// preferring the probe size the unambiguous ones showed.
	ambiguous := 0
	probeSize := map[string]map[int]int{}
	for _, tp := range all {
		c := window(cn, tp.sender == "client", tp.lo, tp.hi, usedSeg)
		if len(c) == 1 {
			tp.seg = c[0]
			usedSeg[c[0]] = true
			k := tp.sender + tp.kind + tp.name
			if probeSize[k] == nil {
				probeSize[k] = map[int]int{}
			}
			probeSize[k][c[0].tcpLen]++
		}
	}
	for _, tp := range all {
		if tp.seg != nil {
			continue
		}
		c := window(cn, tp.sender == "client", tp.lo, tp.hi, usedSeg)
		if len(c) > 1 {
			ambiguous++
		}
		if tp.witness {
			tp.seg = chooseWitness(c, mode(probeSize[tp.sender+tp.kind+tp.name]), tp.later)
		} else {
			tp.seg = choose(c, tp.sendT, mode(probeSize[tp.sender+tp.kind+tp.name]))
		}
		if tp.seg != nil {
			usedSeg[tp.seg] = true
			tp.at = tp.seg.t
		}
	}
	for _, tp := range all {
		if tp.seg != nil {
			tp.at = tp.seg.t
		}
	}
	// Replies: the same, after the probe's segment and up to the prober's
	// "receive packet" line.
	replyWin := func(tp *tied) []*pkt {
		lo := tp.sendT - 0.25
		if tp.seg != nil {
			lo = tp.seg.t
		}
		hi := tp.replyRecvT + 0.05
		if tp.witness {
			hi = tp.replySendT + 0.3 // the responder's "send packet" line; the prober logged nothing
		}
		return window(cn, tp.sender != "client", lo, hi, usedSeg)
	}
	replySize := map[string]map[int]int{}
	for _, tp := range all {
		if !tp.answered() {
			continue
		}
		if c := replyWin(tp); len(c) == 1 {
			tp.reply = c[0]
			usedSeg[c[0]] = true
			k := tp.sender + tp.kind + tp.name
			if replySize[k] == nil {
				replySize[k] = map[int]int{}
			}
			replySize[k][c[0].tcpLen]++
		}
	}
	for _, tp := range all {
		if !tp.answered() || tp.reply != nil {
			continue
		}
		c := replyWin(tp)
		if len(c) > 1 {
			ambiguous++
		}
		t := tp.replySendT
		if t == 0 {
			t = tp.replyRecvT
		}
		if tp.reply = choose(c, t, mode(replySize[tp.sender+tp.kind+tp.name])); tp.reply != nil {
			usedSeg[tp.reply] = true
		}
	}
	// A reply the responder logged sending that reached the wire after the
	// prober had stopped reading (it was closing) still answered the probe.
	late := 0
	for _, tp := range all {
		if tp.answered() || tp.replySendT == 0 || tp.seg == nil {
			continue
		}
		c := window(cn, tp.sender != "client", tp.seg.t, tp.replySendT+1, usedSeg)
		if tp.reply = choose(c, tp.replySendT, mode(replySize[tp.sender+tp.kind+tp.name])); tp.reply != nil {
			usedSeg[tp.reply] = true
			tp.replyRecvT = tp.reply.t
			late++
		}
	}
	if late > 0 {
		out.Evidence = append(out.Evidence, fmt.Sprintf("lab: %d reply(ies) the responder logged sending reached the wire after the prober had stopped reading (it was closing)", late))
	}
	for _, tp := range all {
		if tp.answered() && (tp.seg == nil || tp.reply == nil) {
			*notes = append(*notes, fmt.Sprintf("lab: an answered %s probe logged at %.3f s could not be tied to its segments (probe %v, reply %v)",
				tp.sender, rel(tp.sendT), tp.seg != nil, tp.reply != nil))
		}
	}
	if ambiguous > 0 {
		out.Evidence = append(out.Evidence, fmt.Sprintf("lab: %d probe/reply segment(s) chosen among several candidates by the size of this connection's unambiguous ones", ambiguous))
	}
	for _, sender := range []string{"client", "server"} {
		ts := bySender[sender]
		if len(ts) == 0 {
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].at < ts[j].at })
		// the common probe size of this sender, for probes that never made it
		// to the wire as a segment of their own
		sizes := map[string]map[int]int{}
		for _, tp := range ts {
			if tp.seg != nil {
				if sizes[tp.kind+tp.name] == nil {
					sizes[tp.kind+tp.name] = map[int]int{}
				}
				sizes[tp.kind+tp.name][tp.seg.tcpLen]++
			}
		}
		type key struct {
			kind, name string
			size       int
		}
		set := senderSetting(sender, cn, m, out.Implementations)
		// A witnessed probe sent without compression has one size per
		// message (minimal padding): a bigger segment carried it with other
		// packets. OpenSSH's own probes are left as they were.
		own := map[string]int{}
		if witnessCompression(cn, sender) == "none" {
			for _, tp := range ts {
				if k := tp.kind + tp.name; tp.witness && tp.seg != nil && (own[k] == 0 || tp.seg.tcpLen < own[k]) {
					own[k] = tp.seg.tcpLen
				}
			}
			// every probe of a kind shared a segment (PuTTY's IGNORE sent with
			// each keystroke): its exact size, when the rest of the smallest
			// such segment is a size this sender also sent as a segment alone
			alone := map[int]bool{}
			for _, p := range cn.pkts {
				if p.isTCP && p.tcpLen > 0 && cn.fromClient(p) == (sender == "client") {
					alone[p.tcpLen] = true
				}
			}
			cipher, mac := witnessCipher(cn, sender)
			for _, tp := range ts {
				k := tp.kind + tp.name
				if s := packetSize(probePayload(tp.kind, tp.name), cipher, mac); tp.witness && s > 0 && own[k] > s && alone[own[k]-s] {
					own[k] = s
				}
			}
		}
		groups := map[key]*sshKA{}
		var order []key
		intervals := map[key][]float64{}
		replies := map[key][]int{}
		for i, tp := range ts {
			k := key{tp.kind, tp.name, mode(sizes[tp.kind+tp.name])}
			shared := false
			if tp.seg != nil {
				k.size = tp.seg.tcpLen
				if o := own[tp.kind+tp.name]; o > 0 && k.size > o {
					k.size, shared = o, true
				}
			}
			g := groups[k]
			if g == nil {
				g = &sshKA{Sender: sender, Message: tp.kind, RequestName: tp.name, ReplyExpected: tp.wantReply,
					ProbeBytes: k.size, ProbeAtS: []float64{}, Setting: set}
				groups[k] = g
				order = append(order, k)
			}
			g.Probes++
			g.ProbeAtS = append(g.ProbeAtS, rel(tp.at))
			if shared {
				g.SharedSegments++
				g.SharedSegmentBytes = append(g.SharedSegmentBytes, tp.seg.tcpLen)
			}
			if tp.seg != nil {
				g.ProbesOnWire++
			}
			if tp.answered() {
				g.Answered++
				if tp.reply != nil {
					replies[k] = append(replies[k], tp.reply.tcpLen)
				}
			}
			if i > 0 {
				intervals[k] = append(intervals[k], tp.at-ts[i-1].at)
			}
		}
		// retransmitted probe data: retransmissions in the probe direction
		// after the first unanswered probe that reached the wire
		firstLost := 0.0
		for _, tp := range ts {
			if !tp.answered() && tp.seg != nil {
				firstLost = tp.seg.t
				break
			}
		}
		for _, k := range order {
			g := groups[k]
			g.IntervalS = statsOf(intervals[k])
			g.ReplyBytes = mode(counts(replies[k]))
			if firstLost > 0 && g.Answered < g.Probes {
				for _, p := range cn.pkts {
					if p.retrans && p.t >= firstLost && cn.fromClient(p) == (sender == "client") {
						g.Retransmissions++
					}
				}
			}
			out.SSHKeepalives = append(out.SSHKeepalives, *g)
		}
	}

	// evidence from the logs
	if cn.lc != nil {
		n80 := len(clientProbes(cn.lc, nil))
		n82 := cn.lc.count(func(s string) bool { return isType(s, lRecvPkt, 81, 82) })
		nCR := cn.lc.count(func(s string) bool {
			return strings.HasPrefix(s, "debug1: client_input_channel_req: ") && strings.HasSuffix(s, lCliChanSuffix)
		})
		nGR := cn.lc.count(func(s string) bool { return s == lCliGlobal })
		out.Evidence = append(out.Evidence, fmt.Sprintf("ssh log: %d × 'send packet: type 80' (keepalive@openssh.com), %d × 'receive packet: type 81/82'; %d × 'client_input_channel_req ... rtype keepalive@openssh.com reply 1', %d × 'client_input_global_request: rtype keepalive@openssh.com want_reply 1' (whole log)", n80, n82, nCR, nGR))
	}
	if cn.ls != nil {
		nR := cn.ls.count(func(s string) bool { return s == lSrvRtype })
		nCR := cn.ls.count(reChanReq.MatchString)
		nGot := cn.ls.count(reGotKA.MatchString)
		nGR := 0
		for _, p := range serverProbes(cn.ls, nil) {
			if p.kind == "global-request" {
				nGR++
			}
		}
		out.Evidence = append(out.Evidence, fmt.Sprintf("sshd log: %d × 'server_input_global_request: rtype keepalive@openssh.com want_reply 1'; %d × 'channel N: request keepalive@openssh.com confirm 1', %d × keepalive 'send packet: type 80', %d × 'Got N/M for keepalive' (whole log)", nR, nCR, nGR, nGot))
	}
	out.Evidence = append(out.Evidence, witnessEv...)
	for _, side := range []string{"client", "server"} {
		if im := m.impls[side]; im != nil && im.exit != nil {
			ev := fmt.Sprintf("%s (%s) exit status %d", im.log, side, *im.exit)
			if im.endedByLab > 0 {
				ev += fmt.Sprintf(", ended by the lab at %.3f s", rel(im.endedByLab))
			}
			out.Evidence = append(out.Evidence, ev)
		}
	}

	// ---- TCP keepalives: the RFC 1122/Linux rule, checked against tshark
	next := map[bool]uint32{}
	seen := map[bool]bool{}
	lastRecv := map[bool]float64{} // by receiver side (true = client)
	type tprobe struct {
		p        *pkt
		answered bool
		idle     float64
	}
	tprobes := map[bool][]tprobe{}
	nKA, nKAAck, nRetrans := 0, 0, 0
	mismatch := 0
	for i, p := range cn.pkts {
		fc := cn.fromClient(p)
		if p.ka {
			nKA++
		}
		if p.kaAck {
			nKAAck++
		}
		if p.retrans {
			nRetrans++
		}
		isKA := seen[fc] && !p.syn && !p.fin && !p.rst && p.tcpLen <= 1 && p.seq == next[fc]-1
		if isKA != p.ka {
			mismatch++
		}
		if isKA {
			tp := tprobe{p: p, idle: p.t - lastRecv[fc]}
			for _, q := range cn.pkts[i+1:] {
				if q.t > p.t+1.5 {
					break
				}
				if cn.fromClient(q) != fc && q.tcpLen == 0 && q.ack == p.seq+1 {
					tp.answered = true
					break
				}
			}
			tprobes[fc] = append(tprobes[fc], tp)
		}
		end := p.seq + uint32(p.tcpLen)
		if p.syn {
			end++
		}
		if p.fin {
			end++
		}
		if !seen[fc] || int32(end-next[fc]) > 0 {
			next[fc] = end
		}
		seen[fc] = true
		lastRecv[!fc] = p.t
	}
	for _, fc := range []bool{true, false} {
		tps := tprobes[fc]
		if len(tps) == 0 {
			continue
		}
		sender := "server"
		if fc {
			sender = "client"
		}
		bySize := map[int]*tcpKA{}
		var sizes []int
		var ivs []float64
		for i, tp := range tps {
			k := bySize[tp.p.tcpLen]
			if k == nil {
				k = &tcpKA{Sender: sender, ProbeBytes: tp.p.tcpLen, IdleBeforeS: r3(tp.idle), ProbeAtS: []float64{}}
				bySize[tp.p.tcpLen] = k
				sizes = append(sizes, tp.p.tcpLen)
			}
			k.Probes++
			k.ProbeAtS = append(k.ProbeAtS, rel(tp.p.t))
			if tp.answered {
				k.Answered++
			}
			if i > 0 {
				ivs = append(ivs, tp.p.t-tps[i-1].p.t)
			}
		}
		for _, s := range sizes {
			bySize[s].IntervalS = statsOf(ivs)
			out.TCPKeepalives = append(out.TCPKeepalives, *bySize[s])
		}
	}
	out.Evidence = append(out.Evidence, fmt.Sprintf("tshark: %d tcp.analysis.keep_alive, %d keep_alive_ack, %d retransmission", nKA, nKAAck, nRetrans))
	if mismatch > 0 {
		out.Evidence = append(out.Evidence, fmt.Sprintf("%d segment(s) where tshark's keep_alive flag and the seq = next-1, len <= 1 rule disagree", mismatch))
	}

	// ---- how it ended
	out.End = end{How: "open", By: ""}
	for _, p := range cn.pkts {
		if p.fin || p.rst {
			out.End.How = "fin"
			if p.rst {
				out.End.How = "rst"
			}
			out.End.By = "server"
			if cn.fromClient(p) {
				out.End.By = "client"
			}
			out.End.AtS = rel(p.t)
			break
		}
	}
	if cn.lc != nil {
		if l, ok := cn.lc.find(lCliTimeout); ok && strings.Contains(l.s, "not responding") {
			out.GaveUp = &gaveUp{By: "client", Log: l.s, AtS: rel(l.t)}
		}
		if msgs := cn.lc.lastMessages(3); len(msgs) > 0 {
			out.Evidence = append(out.Evidence, "ssh messages: "+strings.Join(msgs, " | "))
		}
		if cn.cm != nil && cn.cm.exit != nil {
			out.Evidence = append(out.Evidence, "ssh exit status "+strconv.Itoa(*cn.cm.exit))
		}
	}
	if cn.ls != nil {
		if l, ok := cn.ls.find(lSrvTimeout); ok {
			out.GaveUp = &gaveUp{By: "server", Log: l.s, AtS: rel(l.t)}
		}
	}

	out.Cause, out.CauseEvidence = trueCause(out, cn, m, usedSeg)

	// ---- configured vs seen
	if cn.cm != nil {
		cfgNote(notes, "ServerAliveInterval", optionOr(cn.cm.options, "ServerAliveInterval"), out.SSHKeepalives, "client")
	}
	if cn.ls != nil {
		v, _ := configValue(m.sshdConfig, "ClientAliveInterval")
		cfgNote(notes, "ClientAliveInterval", v, out.SSHKeepalives, "server")
	}
	for _, side := range []string{"client", "server"} {
		id := out.Implementations.Client
		if side == "server" {
			id = out.Implementations.Server
		}
		if st, ok := m.settings[side]; ok && id != nil && !isOpenSSH(id) {
			cfgNote(notes, st.name, st.value, out.SSHKeepalives, side)
		}
	}
	return out
}

func optionOr(opts []string, key string) string {
	v, _ := optionValue(opts, key)
	return v
}

// cfgNote records where the wire differs from the configured interval.
func cfgNote(notes *[]string, key, val string, kas []sshKA, sender string) {
	iv, err := strconv.ParseFloat(val, 64)
	if err != nil || iv <= 0 {
		for _, k := range kas {
			if k.Sender == sender {
				*notes = append(*notes, fmt.Sprintf("%s not set, yet the %s sent %d probe(s)", key, sender, k.Probes))
			}
		}
		return
	}
	n := 0
	for _, k := range kas {
		if k.Sender != sender {
			continue
		}
		n += k.Probes
		if k.IntervalS != nil && math.Abs(k.IntervalS.Median-iv) > 0.25 {
			*notes = append(*notes, fmt.Sprintf("configured %s %s; the %s's probes came every %.3f s (median, min %.3f, max %.3f) on the wire",
				key, val, sender, k.IntervalS.Median, k.IntervalS.Min, k.IntervalS.Max))
		}
	}
	if n == 0 {
		*notes = append(*notes, fmt.Sprintf("configured %s %s, but the %s sent no probe", key, val, sender))
	}
}

func counts(xs []int) map[int]int {
	m := map[int]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}

// mode returns the most common value (the smallest on ties), 0 for none.
func mode(m map[int]int) int {
	best, bn := 0, 0
	for v, n := range m {
		if n > bn || (n == bn && v < best) {
			best, bn = v, n
		}
	}
	return best
}

func statsOf(xs []float64) *stats {
	if len(xs) == 0 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &stats{Median: r3(med), Min: r3(s[0]), Max: r3(s[len(s)-1])}
}

// trueCause tells why a connection ended, from what the lab did (meta) and
// what the endpoints logged or printed, never from the analyzer.
func trueCause(out connection, cn *conn, m *meta, keepalive map[*pkt]bool) (string, string) {
	fault := strings.Join(m.faults, "; ")
	switch {
	case m.endCause != "":
		return m.endCause, "lab: " + m.endWhy
	case out.GaveUp != nil && strings.Contains(fault, "DROP"):
		return "dead-path", fmt.Sprintf("the lab dropped the path (%s); the %s then logged %q", fault, out.GaveUp.By, out.GaveUp.Log)
	case out.GaveUp != nil && strings.Contains(fault, "STOP"):
		return "keepalive-timeout", fmt.Sprintf("the lab stopped the peer (%s); the %s then logged %q", fault, out.GaveUp.By, out.GaveUp.Log)
	}
	var msgs []string
	if cn.lc != nil {
		msgs = cn.lc.lastMessages(3)
	}
	if strings.Contains(fault, "DROP") && out.End.How == "rst" && len(out.TCPKeepalives) > 0 {
		return "tcp-keepalive-timeout", fmt.Sprintf("the lab dropped the path (%s); the kernel's TCP keepalives timed out and it reset the connection; ssh said %q", fault, strings.Join(msgs, " | "))
	}
	if cn.cm != nil && m.dir != "" {
		if b, err := os.ReadFile(filepath.Join(m.dir, cn.cm.log+".out")); err == nil && bytes.Contains(b, []byte("auto-logout")) {
			return "idle-logout", "the user's terminal (ssh's output) shows bash's \"timed out waiting for input: auto-logout\" (TMOUT)"
		}
	}
	if out.End.How == "open" {
		why := "the capture stopped with the connection open"
		if len(m.notes) > 0 {
			why += " (lab: " + strings.Join(m.notes, "; ") + ")"
		}
		return "open", why
	}
	if m.typer != "" {
		return "user-exit", "the lab's typed input ended the remote command (" + m.typer + ")"
	}
	cmd := m.remoteCommand
	if cn.cm != nil {
		cmd = cn.cm.command
	}
	if cn.cm != nil || cmd != "" {
		// Nothing was typed: the command ended by itself. The vocabulary
		// calls that command-ended when the client had sent nothing (but
		// keepalives) for at least 2 s before the server's closing run,
		// else user-exit (an ordinary end).
		if quiet := clientQuietBeforeClose(cn, keepalive); quiet >= 2 {
			return "command-ended", fmt.Sprintf("the remote command (%s) ended by itself; the client had sent nothing but keepalives for %.1f s before the server closed the session", cmd, quiet)
		}
		return "user-exit", fmt.Sprintf("the remote command (%s) ended and the session with it", cmd)
	}
	return "", ""
}

// clientQuietBeforeClose is how long (s) the client had sent no data but
// keepalive probes and replies (and AsyncSSH's IGNORE just before one) when
// the server sent its last data before the first FIN or RST.
func clientQuietBeforeClose(cn *conn, keepalive map[*pkt]bool) float64 {
	end := len(cn.pkts)
	for i, p := range cn.pkts {
		if p.fin || p.rst {
			end = i
			break
		}
	}
	padding := func(i int) bool { // a segment right before a keepalive of the same sender
		p := cn.pkts[i]
		for _, q := range cn.pkts[i+1 : min(i+3, len(cn.pkts))] {
			if keepalive[q] && q.src == p.src && q.t-p.t < 0.005 {
				return true
			}
		}
		return false
	}
	data := func(i int) bool {
		p := cn.pkts[i]
		return p.tcpLen > 0 && !p.syn && !p.retrans && !keepalive[p] && !padding(i)
	}
	last := -1 // the server's last data before the end
	for i := end - 1; i >= 0 && last < 0; i-- {
		if data(i) && !cn.fromClient(cn.pkts[i]) {
			last = i
		}
	}
	if last < 0 {
		return 0
	}
	for i := last - 1; i >= 0; i-- {
		if data(i) && cn.fromClient(cn.pkts[i]) {
			return cn.pkts[last].t - cn.pkts[i].t
		}
	}
	return cn.pkts[last].t - cn.pkts[0].t
}
