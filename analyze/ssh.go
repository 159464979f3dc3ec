package analyze

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
	shapes    [2][2]keepaliveShape // per sender, once specs are known
}

// syn starts d's handshake at the byte after its SYN.
func (s *sshConn) syn(d Role, seq uint32) { s.hs[d].start(seq + 1) }

// segment feeds a segment's payload (new or retransmitted) to d's handshake
// while it is clear text.
func (s *sshConn) segment(d Role, seg *Segment) {
	if s.hs[d].state < hsEncrypted {
		s.hs[d].feed(seg.Seq, seg.Payload, seg.PayloadLen, len(seg.Payload) == seg.PayloadLen)
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
	if !s.specsDone && s.hs[Client].hasKex && s.hs[Server].hasKex {
		s.specsDone = true
		s.specs, s.specOK = negotiateSpecs(s.hs[Client].kex, s.hs[Server].kex)
		if s.specOK[Client] && s.specOK[Server] {
			s.shapes[Client] = shapes(s.specs[Client], s.specs[Server])
			s.shapes[Server] = shapes(s.specs[Server], s.specs[Client])
		}
	}
	return s.specOK[Client] && s.specOK[Server]
}

// bannerFirst reports whether d has sent a banner and its peer has not.
func (s *sshConn) bannerFirst(d Role) bool {
	return s.hs[d].banner.Proto != "" && s.hs[d.Peer()].banner.Proto == ""
}

// swap exchanges the roles of the two ends (orientation was a guess).
func (s *sshConn) swap() { s.hs[0], s.hs[1] = s.hs[1], s.hs[0] }
