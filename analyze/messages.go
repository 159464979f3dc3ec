package analyze

// The message model: what each implementation sends as a keepalive, and
// the exact on-wire size of those messages and of their replies under a
// cipher (sshproto.go has the arithmetic).

// Message is the SSH message a keepalive probe is.
type Message uint8

// Keepalive messages.
const (
	MsgUnknown              Message = iota // sizes cannot tell which
	MsgGlobalRequest                       // SSH_MSG_GLOBAL_REQUEST, want_reply 1: REQUEST_FAILURE/SUCCESS
	MsgGlobalRequestNoReply                // SSH_MSG_GLOBAL_REQUEST, want_reply 0: no reply
	MsgChannelRequest                      // SSH_MSG_CHANNEL_REQUEST, want_reply 1: CHANNEL_FAILURE/SUCCESS
	MsgIgnore                              // SSH_MSG_IGNORE: no reply
)

func (m Message) String() string {
	switch m {
	case MsgGlobalRequest:
		return "global-request"
	case MsgGlobalRequestNoReply:
		return "global-request-noreply"
	case MsgChannelRequest:
		return "channel-request"
	case MsgIgnore:
		return "ignore"
	}
	return "unknown"
}

// ReplyExpected reports whether the message asks for a reply.
func (m Message) ReplyExpected() bool {
	return m == MsgGlobalRequest || m == MsgChannelRequest || m == MsgUnknown
}

// Payload sizes (RFC 4253, 4254; FACTS §3.1, §3.5). A global request is
// byte 80, string name, boolean want_reply: 6 + len(name). A channel
// request adds the recipient channel: 10 + len(name).
const (
	nameOpenSSH = len("keepalive@openssh.com") // also keepalive@libssh2.org
	nameGolang  = len("keepalive@golang.org")
	nameLagNet  = len("keepalive@lag.net") // paramiko

	payloadGlobalKeepalive  = 6 + nameOpenSSH  // 27
	payloadChannelKeepalive = 10 + nameOpenSSH // 31
	payloadIgnore           = 5                // SSH_MSG_IGNORE with an empty string
	payloadRequestFailure   = 1                // SSH_MSG_REQUEST_FAILURE (and SUCCESS without data)
	payloadChannelFailure   = 5                // SSH_MSG_CHANNEL_FAILURE recipient (and SUCCESS)
	payloadChannelData1     = 10               // SSH_MSG_CHANNEL_DATA with one byte: a keystroke
	// The messages that close a session: the exit-status channel request
	// (recipient, "exit-status", want_reply 0, uint32: 25 bytes, and
	// eow@openssh.com has the same length), CHANNEL_EOF and CHANNEL_CLOSE
	// (recipient: 5 bytes).
	payloadExitStatus = 1 + 4 + 4 + len("exit-status") + 1 + 4
	payloadChannelEOF = 5
)

// keepaliveShape is one keepalive message as it appears on the wire: the
// probe's size and its reply's (0: no reply by design).
type keepaliveShape struct {
	msg          Message
	probe, reply int
}

// shapes returns the OpenSSH probe/reply pairs for a sender whose packets
// use send and whose peer answers with recv: the global request first, then
// the channel request.
func shapes(send, recv CipherSpec) [2]keepaliveShape {
	return [2]keepaliveShape{
		{msg: MsgGlobalRequest, probe: send.WireSize(payloadGlobalKeepalive), reply: recv.WireSize(payloadRequestFailure)},
		{msg: MsgChannelRequest, probe: send.WireSize(payloadChannelKeepalive), reply: recv.WireSize(payloadChannelFailure)},
	}
}

// shapesFor returns the keepalive messages impl sends from side, as shapes
// under send (its direction) and recv (its peer's, for the reply). ssh
// sends global requests only; sshd and Dropbear a channel request while a
// channel is open; an implementation not in the table is taken to send
// either.
func shapesFor(impl string, side Role, send, recv CipherSpec) []keepaliveShape {
	gr := func(name int) keepaliveShape {
		return keepaliveShape{msg: MsgGlobalRequest, probe: send.WireSize(6 + name), reply: recv.WireSize(payloadRequestFailure)}
	}
	noReply := func(payload int, m Message) keepaliveShape {
		return keepaliveShape{msg: m, probe: send.WireSize(payload)}
	}
	switch impl {
	case ImplPuTTY:
		return []keepaliveShape{noReply(payloadIgnore, MsgIgnore)}
	case ImplParamiko:
		return []keepaliveShape{noReply(6+nameLagNet, MsgGlobalRequestNoReply)}
	case ImplLibssh2:
		return []keepaliveShape{gr(nameOpenSSH), noReply(6+nameOpenSSH, MsgGlobalRequestNoReply)}
	case ImplAsyncSSH, ImplLibssh:
		return []keepaliveShape{gr(nameOpenSSH)}
	case ImplGo:
		// A Go program names its own request; these are the names seen.
		return dedupe([]keepaliveShape{gr(nameOpenSSH), gr(nameGolang), gr(nameLagNet)})
	case ImplOpenSSH:
		if side == Client {
			return []keepaliveShape{gr(nameOpenSSH)}
		}
	}
	sh := shapes(send, recv)
	return sh[:]
}

// dedupe drops shapes whose probe and reply sizes an earlier one has.
func dedupe(sh []keepaliveShape) []keepaliveShape {
	out := sh[:0]
	for _, s := range sh {
		dup := false
		for _, o := range out {
			dup = dup || o.probe == s.probe && o.reply == s.reply && o.msg == s.msg
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// knownSpecs are the cipher/MAC pairs OpenSSH and common peers negotiate; with
// no handshake in the capture, probe/reply sizes are matched against these.
var knownSpecs = func() []CipherSpec {
	var out []CipherSpec
	for _, c := range []string{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"} {
		s, _ := NewCipherSpec(c, "", "none")
		out = append(out, s)
	}
	for _, c := range []string{"aes128-ctr", "3des-cbc"} {
		for _, m := range []string{"umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
			"hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com", "umac-128@openssh.com",
			"hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-md5", "hmac-sha1-96", "hmac-md5-96"} {
			s, _ := NewCipherSpec(c, m, "none")
			out = append(out, s)
		}
	}
	return out
}()

// probeSizes holds every probe size some known cipher produces.
var probeSizes = func() map[int]bool {
	m := map[int]bool{}
	for _, s := range knownSpecs {
		for _, sh := range shapes(s, s) {
			m[sh.probe] = true
		}
	}
	return m
}()

// anyShape reports whether (probe, reply) is a keepalive pair under some known
// cipher, assuming both directions negotiated the same one (OpenSSH's
// proposals are symmetric).
func anyShape(probe, reply int) (keepaliveShape, bool) {
	for _, s := range knownSpecs {
		for _, sh := range shapes(s, s) {
			if sh.probe == probe && sh.reply == reply {
				return sh, true
			}
		}
	}
	return keepaliveShape{}, false
}
