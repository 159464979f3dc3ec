package analyze

import "time"

// The SSH stage. Per connection it reads each direction's clear-text
// prologue (banner, KEXINIT, up to NEWKEYS) from the TCP stage's payload,
// negotiates the ciphers once both KEXINITs are in, and from then on knows
// the exact on-wire size of every keepalive message and reply (sshproto.go).

// sshConn is the SSH stage's state for one connection.
type sshConn struct {
	hs        [2]handshake
	specsDone bool
	specs     [2]CipherSpec
	specOK    [2]bool
	shapes    [2][]keepaliveShape // per sender, once specs are sized
	impl      [2]string           // per end, once its banner is in (Implementation.Name)
	implDone  [2]bool
	timer     [2]timerView // per end: the silence its keepalive timer measures
}

// syn starts d's handshake at the byte after its SYN.
func (s *sshConn) syn(d Role, seq uint32) { s.hs[d].start(seq + 1) }

// segment feeds a segment's payload (new or retransmitted) to d's handshake
// while it is clear text.
func (s *sshConn) segment(d Role, seg *Segment) {
	if s.hs[d].state < hsEncrypted {
		s.hs[d].feed(seg.Seq, seg.Payload, seg.PayloadLen, len(seg.Payload) == seg.PayloadLen)
		if !s.implDone[d] && s.hs[d].banner.Proto != "" {
			s.impl[d], s.implDone[d] = s.hs[d].banner.Implementation().Name, true
			s.timer[d] = timerOf(s.hs[d].banner, d)
		}
	}
}

// clearText reports whether d's bytes are still its clear-text handshake:
// never a keepalive.
func (s *sshConn) clearText(d Role) bool {
	return s.hs[d].started && s.hs[d].state < hsEncrypted
}

// exactKnown reports whether both directions' ciphers are known, so probe
// and reply sizes are exact; it negotiates them once both KEXINITs are in.
func (s *sshConn) exactKnown() bool {
	s.negotiate()
	return s.specOK[Client] && s.specOK[Server]
}

// compressedKnown reports whether both directions' ciphers are known but
// compression is on: sizes are then learned from the wire.
func (s *sshConn) compressedKnown() bool {
	s.negotiate()
	return s.specs[Client].sized && s.specs[Server].sized && !(s.specOK[Client] && s.specOK[Server])
}

// negotiate derives both directions' protection once both KEXINITs are in,
// and each sender's keepalive shapes (by its implementation).
func (s *sshConn) negotiate() {
	if s.specsDone || !s.hs[Client].hasKex || !s.hs[Server].hasKex {
		return
	}
	s.specsDone = true
	s.specs, s.specOK = negotiateSpecs(s.hs[Client].kex, s.hs[Server].kex)
	if s.specs[Client].sized && s.specs[Server].sized {
		s.shapes[Client] = shapesFor(s.impl[Client], Client, s.specs[Client], s.specs[Server])
		s.shapes[Server] = shapesFor(s.impl[Server], Server, s.specs[Server], s.specs[Client])
	}
}

// replySizes reports whether n is the size of a reply to one of sender's
// want-reply keepalives.
func (s *sshConn) isReplySize(sender Role, n int) bool {
	for _, sh := range s.shapes[sender] {
		if sh.reply == n {
			return true
		}
	}
	return false
}

// awaitsReply reports whether size is that of one of sender's want-reply
// keepalives (exact sizes known).
func (s *sshConn) awaitsReply(sender Role, size int) bool {
	if !s.exactKnown() {
		return false
	}
	for _, sh := range s.shapes[sender] {
		if sh.reply > 0 && sh.probe == size {
			return true
		}
	}
	return false
}

// closing returns a test of whether a segment d sent is one to four of
// the messages that close a session (exit-status and eow@openssh.com
// channel requests, CHANNEL_EOF, CHANNEL_CLOSE): under the negotiated
// cipher, else under the one the keepalives' sizes imply (implied, when
// sized); nil when sizes are unknown.
func (s *sshConn) closing(d Role, implied CipherSpec) func(int) bool {
	sp := implied
	if s.exactKnown() {
		sp = s.specs[d]
	}
	if !sp.sized || sp.compressed {
		return nil
	}
	return func(n int) bool { return sumOf(n, sp.WireSize(payloadExitStatus), sp.WireSize(payloadChannelEOF), 4) }
}

// sumOf reports whether n is the sum of 1 to k values, each a or b.
func sumOf(n, a, b, k int) bool {
	for i := 0; i <= k; i++ {
		for j := 0; i+j <= k; j++ {
			if i+j > 0 && i*a+j*b == n {
				return true
			}
		}
	}
	return false
}

// noReplyKeepalive reports whether d's implementation sends keepalives
// that get no reply by design (PuTTY, paramiko, libssh2).
func (s *sshConn) noReplyKeepalive(d Role) bool {
	for _, sh := range s.shapes[d] {
		if sh.reply == 0 {
			return true
		}
	}
	return false
}

// bannerFirst reports whether d has sent a banner and its peer has not.
func (s *sshConn) bannerFirst(d Role) bool {
	return s.hs[d].banner.Proto != "" && s.hs[d.Peer()].banner.Proto == ""
}

// swap exchanges the roles of the two ends (orientation was a guess).
func (s *sshConn) swap() {
	s.hs[0], s.hs[1] = s.hs[1], s.hs[0]
	s.impl[0], s.impl[1] = s.impl[1], s.impl[0]
	s.implDone[0], s.implDone[1] = s.implDone[1], s.implDone[0]
	s.timer[0], s.timer[1] = s.timer[1], s.timer[0]
}

// timerView is the silence a keepalive timer measures before it fires.
type timerView uint8

const (
	sinceReceived timerView = iota // OpenSSH's ssh, AsyncSSH, unknown software
	sinceSent                      // paramiko: reset only by its own sends
	sinceEither                    // Dropbear (nothing sent or nothing received); tickers
	sinceAny                       // sshd ≥ 9.2: ppoll timed out, no event either way
)

// timerOf is the timer view of the software a banner names, at side d.
func timerOf(b Banner, d Role) timerView {
	switch b.Implementation().Name {
	case ImplParamiko:
		return sinceSent
	case ImplDropbear, ImplPuTTY, ImplGo, ImplLibssh, ImplLibssh2:
		return sinceEither
	case ImplOpenSSH:
		if major, minor, _ := b.OpenSSHVersion(); d == Server && (major > 9 || major == 9 && minor >= 2) {
			return sinceAny
		}
	}
	return sinceReceived
}

// idle is the silence before a probe in this view, from the silences since
// the last data received and sent (unknownIdle: none in the capture).
func (v timerView) idle(recv, sent time.Duration) time.Duration {
	switch {
	case v == sinceSent && sent != unknownIdle:
		return sent
	case v == sinceEither:
		return max(recv, sent)
	case v == sinceAny && sent != unknownIdle && recv != unknownIdle:
		return min(recv, sent)
	}
	return recv
}
