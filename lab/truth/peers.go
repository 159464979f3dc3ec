// peers.go: keepalives sent by an implementation that is not OpenSSH, as its
// OpenSSH 9.2 peer (sshd LogLevel DEBUG3 -e, or ssh -vvv) logged receiving
// them; and the implementations' names and versions from the banners.
//
// How to use it for a new implementation (AsyncSSH, Go, libssh, libssh2, ...):
//
//  1. Run it against the lab's OpenSSH at DEBUG3: as a client against
//     sshd_start's sshd, or as a server with ssh -vvv (ssh_args/ssh_bg) as
//     its client; one connection per capture. Start it with peer_bg
//     (lab/lib.sh), or any helper that writes "impl SIDE LOGNAME COMMAND"
//     into meta.tsv (impl_bg in lab/scenarios.d/impl2.sh does). Record the
//     keepalive setting with peer_setting SIDE NAME VALUE (manifest
//     "setting"), the remote command with peer_remote_command (end cause),
//     and, when its banner carries no version (Go: "SSH-2.0-Go"),
//     "meta impl_version SIDE V".
//  2. Nothing else is needed when its keepalive is a GLOBAL_REQUEST or a
//     CHANNEL_REQUEST whose name starts with "keepalive@" (any want_reply),
//     or an SSH_MSG_IGNORE after user authentication: witnessProbes finds
//     them by message type and request name, never by implementation. A
//     keepalive under another name: extend isKeepaliveName. An IGNORE that
//     the witness received right before a keepalive request (the next logged
//     packet, within 50 ms) is counted with that request, not as a probe of
//     its own. If the implementation sends IGNOREs that are not keepalives
//     (e.g. before data, which OpenSSH does not log at DEBUG3), write
//     "meta witness_ignore 0" and IGNOREs are not counted at all.
//  3. A new banner: add its prefix to bannerImpls, and its setting's name to
//     defaultSettings (used when the scenario recorded none).
//
// The witness logs when it received each probe (its "receive packet: type N"
// line, stamped on arrival), so the probe's segment is the one shortly before
// that stamp; a probe is answered when the witness logged sending the reply
// (REQUEST_SUCCESS/FAILURE, CHANNEL_SUCCESS/FAILURE) and unanswered by
// design when want_reply was 0 or it was an IGNORE.
package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The OpenSSH 9.2p1 DEBUG3 lines the witness relies on (verified on lab
// captures: sshd -e at LogLevel DEBUG3, ssh -vvv).
var (
	reSrvGlobalReq = regexp.MustCompile(`^debug1: server_input_global_request: rtype (\S+) want_reply (\d+)`)
	reCliGlobalReq = regexp.MustCompile(`^debug1: client_input_global_request: rtype (\S+) want_reply (\d+)`)
	reSrvChanReq   = regexp.MustCompile(`^debug1: server_input_channel_req: channel \d+ request (\S+) reply (\d+)`)
	reCliChanReq   = regexp.MustCompile(`^debug1: client_input_channel_req: channel \d+ rtype (\S+) reply (\d+)`)
	reRecvType     = regexp.MustCompile(`^debug3: receive packet: type (\d+)`)
	reSendType     = regexp.MustCompile(`^debug3: send packet: type (\d+)`)
	reLocalVersion = regexp.MustCompile(`^debug1: Local version string SSH-[\d.]+-(.+?)(?: \[preauth\])?$`)
	reRemoteSoft   = regexp.MustCompile(`^debug1: Remote protocol version [\d.]+, remote software version (.+?)(?: \[preauth\])?$`)
)

// SSH message numbers (RFC 4250).
const (
	msgIgnore         = 2
	msgUserauthOK     = 52
	msgGlobalRequest  = 80
	msgRequestSuccess = 81
	msgRequestFailure = 82
	msgChannelRequest = 98
	msgChannelSuccess = 99
	msgChannelFailure = 100
)

// isKeepaliveName: the request names keepalives use (keepalive@openssh.com,
// keepalive@lag.net, keepalive@libssh2.org, keepalive@golang.org, ...).
func isKeepaliveName(name string) bool { return strings.HasPrefix(name, "keepalive@") }

func logType(re *regexp.Regexp, s string) int {
	sm := re.FindStringSubmatch(s)
	if sm == nil {
		return -1
	}
	return atoi(sm[1])
}

// witnessProbes returns the keepalives the other side (sender) sent, from
// the OpenSSH peer's log l (sshd's when sender is "client", ssh's when it is
// "server"), in log order. ignore: count SSH_MSG_IGNORE after authentication.
// companions counts IGNOREs folded into the request that followed them.
func witnessProbes(l logFile, sender string, ignore bool) (ps []probe, companions int) {
	reGlobal, reChan, authDir := reSrvGlobalReq, reSrvChanReq, reSendType // sshd witnesses the client
	if sender == "server" {
		reGlobal, reChan, authDir = reCliGlobalReq, reCliChanReq, reRecvType // ssh witnesses the server
	}
	authed := false
	// recvStamp: the "receive packet: type N" line just before line i
	recvStamp := func(i, typ int) float64 {
		for k := i - 1; k >= 0 && k >= i-4; k-- {
			if logType(reRecvType, l[k].s) == typ {
				return l[k].t
			}
		}
		return l[i].t
	}
	// reply: the first "send packet" of one of types after line i, before
	// the next received packet
	reply := func(i int, types ...int) (float64, int) {
		for k := i + 1; k < len(l) && k <= i+60; k++ {
			if reRecvType.MatchString(l[k].s) {
				break
			}
			if n := logType(reSendType, l[k].s); n >= 0 {
				for _, t := range types {
					if n == t {
						return l[k].t, k
					}
				}
			}
		}
		return 0, -1
	}
	for i, x := range l {
		s := x.s
		if logType(authDir, s) == msgUserauthOK {
			authed = true
		}
		var p probe
		switch {
		case reGlobal.MatchString(s):
			sm := reGlobal.FindStringSubmatch(s)
			if !isKeepaliveName(sm[1]) {
				continue
			}
			p = probe{kind: "global-request", name: sm[1], wantReply: sm[2] != "0", recvT: recvStamp(i, msgGlobalRequest)}
			if !p.wantReply {
				p.kind = "global-request-noreply"
			} else {
				p.replySendT, p.replySendIdx = reply(i, msgRequestSuccess, msgRequestFailure)
			}
		case reChan.MatchString(s):
			sm := reChan.FindStringSubmatch(s)
			if !isKeepaliveName(sm[1]) {
				continue
			}
			p = probe{kind: "channel-request", name: sm[1], wantReply: sm[2] != "0", recvT: recvStamp(i, msgChannelRequest)}
			if p.wantReply {
				p.replySendT, p.replySendIdx = reply(i, msgChannelSuccess, msgChannelFailure)
			}
		case ignore && authed && logType(reRecvType, s) == msgIgnore:
			if companionOf(l, i, reGlobal, reChan) {
				companions++
				continue
			}
			p = probe{kind: "ignore", recvT: x.t, replySendIdx: -1}
		default:
			continue
		}
		p.sender, p.witness = sender, true
		for k := i + 1; k < len(l) && l[k].t-x.t <= 0.005; k++ {
			if reRecvType.MatchString(l[k].s) {
				p.later++
			}
		}
		p.sendT, p.sendIdx = p.recvT, -1 // the sender's log is not read: its receive stamp stands in
		if p.replySendT == 0 {
			p.replySendIdx = -1
		}
		ps = append(ps, p)
	}
	return ps, companions
}

// companionOf: the IGNORE at line i is followed by a keepalive request as the
// next packet the witness logged receiving, within 50 ms.
func companionOf(l logFile, i int, reGlobal, reChan *regexp.Regexp) bool {
	for k := i + 1; k < len(l) && k <= i+8 && l[k].t-l[i].t <= 0.05; k++ {
		n := logType(reRecvType, l[k].s)
		if n < 0 {
			continue
		}
		if n != msgGlobalRequest && n != msgChannelRequest {
			return false
		}
		for j := k + 1; j < len(l) && j <= k+3; j++ {
			for _, re := range []*regexp.Regexp{reGlobal, reChan} {
				if sm := re.FindStringSubmatch(l[j].s); sm != nil {
					return isKeepaliveName(sm[1])
				}
			}
		}
		return false
	}
	return false
}

// witnessEvidence summarises the witness's whole log in one line.
func witnessEvidence(l logFile, logName, sender string, ps []probe, companions int) string {
	type k struct {
		kind, name string
		want       bool
	}
	n, ans := map[k]int{}, map[k]int{}
	var order []k
	for _, p := range ps {
		key := k{p.kind, p.name, p.wantReply}
		if n[key] == 0 {
			order = append(order, key)
		}
		n[key]++
		if p.answered() {
			ans[key]++
		}
	}
	reqLine := "server_input_global_request: rtype %s want_reply %d"
	chanLine := "server_input_channel_req: channel N request %s reply %d"
	if sender == "server" {
		reqLine = "client_input_global_request: rtype %s want_reply %d"
		chanLine = "client_input_channel_req: channel N rtype %s reply %d"
	}
	var parts []string
	for _, key := range order {
		w := 0
		if key.want {
			w = 1
		}
		switch key.kind {
		case "ignore":
			parts = append(parts, fmt.Sprintf("%d × 'receive packet: type 2' (SSH_MSG_IGNORE) after authentication", n[key]))
		case "channel-request":
			parts = append(parts, fmt.Sprintf("%d × '"+chanLine+"', %d answered ('send packet: type 99/100')", n[key], key.name, w, ans[key]))
		default:
			parts = append(parts, fmt.Sprintf("%d × '"+reqLine+"', %d answered ('send packet: type 81/82')", n[key], key.name, w, ans[key]))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no keepalive global/channel request and no SSH_MSG_IGNORE after authentication")
	}
	if companions > 0 {
		parts = append(parts, fmt.Sprintf("%d SSH_MSG_IGNORE received right before a keepalive request (counted with it)", companions))
	}
	return fmt.Sprintf("%s log (witness of the %s): %s (whole log)", logName, sender, strings.Join(parts, "; "))
}

// chooseWitness picks a witnessed probe's segment among the candidates (all
// before the witness's receive stamp): of the size this connection's
// unambiguous ties showed when any has it, the latest, except that packets the
// witness logged receiving right after the probe (later) came in the latest
// ones: two 48 B segments 0.2 ms apart, an IGNORE then a CHANNEL_CLOSE, read
// together, are the probe and the close in that order.
func chooseWitness(cands []*pkt, size, later int) *pkt {
	var c []*pkt
	for _, p := range cands {
		if size > 0 && p.tcpLen == size {
			c = append(c, p)
		}
	}
	if len(c) == 0 {
		c = cands
	}
	if len(c) == 0 {
		return nil
	}
	sort.SliceStable(c, func(i, j int) bool { return c[i].t < c[j].t })
	i := len(c) - 1 - later
	if i < 0 {
		i = len(c) - 1
	}
	return c[i]
}

var reKexDir = regexp.MustCompile(`^debug1: kex: (client->server|server->client) cipher: \S+ MAC: \S+ compression: (\S+)`)

// witnessCompression: the compression the sender's packets were sent with
// ("none", "zlib@openssh.com"), from the OpenSSH end's kex lines; "" when
// no log tells.
func witnessCompression(cn *conn, sender string) string {
	dir := "client->server"
	if sender == "server" {
		dir = "server->client"
	}
	for _, l := range []logFile{cn.ls, cn.lc} {
		for _, x := range l {
			if sm := reKexDir.FindStringSubmatch(x.s); sm != nil && sm[1] == dir {
				return sm[2]
			}
		}
	}
	return ""
}

// ---- implementations

type implID struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Banner  string `json:"banner,omitempty"` // the software version of the SSH banner
}

type implementations struct {
	Client *implID `json:"client,omitempty"`
	Server *implID `json:"server,omitempty"`
}

// bannerImpls maps the start of a banner's software version to the
// implementation's name (the longest prefix first).
var bannerImpls = []struct{ prefix, name string }{
	{"OpenSSH_", "OpenSSH"},
	{"PuTTY_Release_", "PuTTY"},
	{"PuTTY_", "PuTTY"},
	{"Plink_", "PuTTY"},
	{"dropbear_", "Dropbear"},
	{"paramiko_", "paramiko"},
	{"AsyncSSH_", "AsyncSSH"},
	{"libssh2_", "libssh2"},
	{"libssh_", "libssh"},
	{"libssh-", "libssh"},
	{"Go", "Go"},
}

// parseBanner: "OpenSSH_9.2p1 Debian-2+deb12u10" -> OpenSSH 9.2p1,
// "PuTTY_Release_0.78" -> PuTTY 0.78, "dropbear_2022.83" -> Dropbear 2022.83.
func parseBanner(soft string) *implID {
	if soft == "" {
		return nil
	}
	id := &implID{Name: soft, Banner: soft}
	for _, b := range bannerImpls {
		if strings.HasPrefix(soft, b.prefix) {
			id.Name = b.name
			v, _, _ := strings.Cut(strings.TrimPrefix(soft, b.prefix), " ")
			id.Version = strings.TrimPrefix(v, "_")
			break
		}
	}
	return id
}

func isOpenSSH(id *implID) bool { return id != nil && id.Name == "OpenSSH" }

// banners: the local and the remote software version an OpenSSH log names.
func banners(l logFile) (local, remote string) {
	for _, x := range l {
		if local == "" {
			if sm := reLocalVersion.FindStringSubmatch(x.s); sm != nil {
				local = sm[1]
			}
		}
		if remote == "" {
			if sm := reRemoteSoft.FindStringSubmatch(x.s); sm != nil {
				remote = sm[1]
			}
		}
		if local != "" && remote != "" {
			break
		}
	}
	return local, remote
}

// connImpls names both ends of a connection from the OpenSSH logs tied to it
// (a log names its own side and its peer's), with the version from meta when
// a banner has none.
func connImpls(cn *conn, m *meta) implementations {
	var cli, srv string
	if cn.lc != nil {
		cli, srv = banners(cn.lc)
	}
	if cn.ls != nil {
		l, r := banners(cn.ls)
		if srv == "" {
			srv = l
		}
		if cli == "" {
			cli = r
		}
	}
	im := implementations{Client: parseBanner(cli), Server: parseBanner(srv)}
	for side, id := range map[string]*implID{"client": im.Client, "server": im.Server} {
		if id != nil && id.Version == "" && m.impls[side] != nil && m.impls[side].version != "" {
			id.Version = m.impls[side].version
		}
	}
	return im
}

// defaultSettings: the name of each implementation's keepalive setting, for
// a scenario that recorded no "setting" line.
var defaultSettings = map[string]string{
	"PuTTY":    "PingIntervalSecs",
	"Dropbear": "-K",
	"paramiko": "Transport.set_keepalive",
	"AsyncSSH": "keepalive_interval",
	"libssh2":  "libssh2_keepalive_config",
	"libssh":   "ssh_send_keepalive timer",
	"Go":       "SendRequest timer",
}

// setting is the configuration that produced a sender's probes.
type setting struct {
	Name  string   `json:"name"`
	Value *float64 `json:"value"` // seconds, as the lab configured it; null: not configured
}

func newSetting(name, val string) *setting {
	s := &setting{Name: name}
	if v, err := parseSeconds(val); err == nil {
		s.Value = &v
	}
	return s
}

func parseSeconds(v string) (float64, error) {
	var f float64
	_, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), "s"), &f)
	return f, err
}

// senderSetting: the setting behind a sender's probes on this connection.
func senderSetting(sender string, cn *conn, m *meta, im implementations) *setting {
	id := im.Client
	if sender == "server" {
		id = im.Server
	}
	if !isOpenSSH(id) {
		if s, ok := m.settings[sender]; ok {
			return newSetting(s.name, s.value)
		}
		if id != nil {
			if n, ok := defaultSettings[id.Name]; ok {
				return &setting{Name: n}
			}
		}
		return nil
	}
	if sender == "client" {
		v := ""
		if cn.cm != nil {
			v, _ = optionValue(cn.cm.options, "ServerAliveInterval")
		}
		return newSetting("ServerAliveInterval", v)
	}
	v, _ := configValue(m.sshdConfig, "ClientAliveInterval")
	return newSetting("ClientAliveInterval", v)
}

// reLabPath: absolute paths of the lab (the repository's lab/ directory, a
// live directory under /dev/shm) in a recorded command line.
var (
	reRepoLab = regexp.MustCompile(`/\S*?/lab/`)
	reLiveDir = regexp.MustCompile(`/\S*?/sa-lab-[^/\s]+/`)
)

// labCommand makes a recorded command line machine-independent: the
// repository's lab/ directory becomes "lab/", the scenario's live directory
// "lab/scratch/NAME/".
func labCommand(cmd, name string) string {
	cmd = reLiveDir.ReplaceAllString(cmd, "lab/scratch/"+name+"/")
	return reRepoLab.ReplaceAllString(cmd, "lab/")
}

// implCommands: the command lines of the non-OpenSSH (or non-default) sides.
func implCommands(m *meta) (client, server string) {
	get := func(side string) string {
		if im := m.impls[side]; im != nil && im.command != "" {
			return labCommand(im.command, m.name)
		}
		return labCommand(m.implCmd[side], m.name)
	}
	return get("client"), get("server")
}

// ---- exact sizes, for witnessed probes that never had a segment of their own

var reKexDirCipher = regexp.MustCompile(`^debug1: kex: (client->server|server->client) cipher: (\S+) MAC: (\S+) compression: \S+`)

// witnessCipher: the cipher and MAC ("<implicit>" for an AEAD) the sender's
// packets were sent with, from the OpenSSH end's kex line.
func witnessCipher(cn *conn, sender string) (cipher, mac string) {
	dir := "client->server"
	if sender == "server" {
		dir = "server->client"
	}
	for _, l := range []logFile{cn.ls, cn.lc} {
		for _, x := range l {
			if sm := reKexDirCipher.FindStringSubmatch(x.s); sm != nil && sm[1] == dir {
				return sm[2], sm[3]
			}
		}
	}
	return "", ""
}

// probePayload: the payload length of a keepalive message (an IGNORE: the
// empty string PuTTY sends; requests: name and want_reply).
func probePayload(kind, name string) int {
	switch kind {
	case "ignore":
		return 1 + 4
	case "global-request", "global-request-noreply":
		return 1 + 4 + len(name) + 1
	case "channel-request":
		return 1 + 4 + 4 + len(name) + 1
	}
	return 0
}

// packetSize: the on-wire size of one uncompressed SSH packet with a payload
// of n bytes and minimal padding (RFC 4253 §6; the length field outside the
// padded part for AEAD and -etm MACs), 0 for a cipher or MAC it does not know.
func packetSize(n int, cipher, mac string) int {
	block := 0
	switch {
	case strings.HasPrefix(cipher, "aes"):
		block = 16
	case cipher == "chacha20-poly1305@openssh.com", cipher == "3des-cbc":
		block = 8
	default:
		return 0
	}
	aead := cipher == "chacha20-poly1305@openssh.com" || strings.HasSuffix(cipher, "-gcm@openssh.com")
	tag := 16
	if !aead {
		switch strings.TrimSuffix(mac, "-etm@openssh.com") {
		case "hmac-sha2-256":
			tag = 32
		case "hmac-sha2-512":
			tag = 64
		case "hmac-sha1":
			tag = 20
		case "hmac-md5":
			tag = 16
		case "umac-64", "umac-64@openssh.com":
			tag = 8
		case "umac-128", "umac-128@openssh.com":
			tag = 16
		default:
			return 0
		}
	}
	outside := aead || strings.HasSuffix(mac, "-etm@openssh.com")
	l := 1 + n
	if !outside {
		l += 4
	}
	pad := block - l%block
	if pad < 4 {
		pad += block
	}
	l += pad
	if outside {
		l += 4
	}
	return l + tag
}
