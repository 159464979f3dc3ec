package analyze

import (
	"encoding/binary"
	"strings"
)

// SSH message numbers used here (RFC 4253, 4254).
const (
	msgKexInit = 20
	msgNewKeys = 21
)

// Limits on the clear-text handshake we buffer, so hostile bytes cannot make
// a connection's state grow without bound.
const (
	maxBannerBytes  = 8 << 10  // pre-banner lines plus the version line
	maxHandshakeBuf = 64 << 10 // one clear-text packet being reassembled
	// maxHandshakeTotal bounds every connection's clear-text buffers
	// together: 10 000 connections each holding an unfinished 35 KB packet
	// once took 1.2 GiB. A handshake that would pass it is given up (the
	// connection is then read by size patterns, as a mid-stream capture).
	maxHandshakeTotal = 16 << 20
	maxClearPacketLen = 35000 // RFC 4253 §6.1 minimum every implementation must accept; KEXINITs are far smaller
	// A KEXINIT's cipher, MAC and compression name-lists are each a few
	// hundred bytes and a dozen names; longer ones are not read.
	maxNameList = 4096
	maxNames    = 128
)

// CipherSpec is the packet protection negotiated for one direction: what the
// on-wire size of an SSH message depends on.
type CipherSpec struct {
	Cipher      string `json:"cipher"`
	MAC         string `json:"mac,omitempty"`
	Compression string `json:"compression,omitempty"`
	block       int
	tag         int
	aad         int  // 4 when the length field is outside the padding computation (AEAD, -etm)
	sized       bool // cipher and MAC known: WireSize gives the size of an uncompressed payload
	compressed  bool // zlib: sizes of payloads are not known in advance
}

// cipherBlock gives the block size used for padding; 0 means unknown.
func cipherBlock(name string) (block int, aead bool) {
	switch name {
	case "chacha20-poly1305@openssh.com":
		return 8, true
	case "aes128-gcm@openssh.com", "aes256-gcm@openssh.com":
		return 16, true
	case "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
		"rijndael-cbc@lysator.liu.se", "twofish-cbc", "twofish128-cbc", "twofish256-cbc",
		"serpent128-cbc", "serpent256-cbc":
		return 16, false
	case "3des-cbc", "3des-ctr", "blowfish-cbc", "blowfish-ctr", "cast128-cbc", "arcfour", "arcfour128", "arcfour256", "none":
		return 8, false
	}
	return 0, false
}

// macLen gives the MAC length in bytes and whether it is encrypt-then-MAC; ok
// is false for an unknown MAC.
func macLen(name string) (n int, etm, ok bool) {
	base, etm := strings.CutSuffix(name, "-etm@openssh.com")
	switch base {
	case "hmac-sha2-256":
		return 32, etm, true
	case "hmac-sha2-512":
		return 64, etm, true
	case "hmac-sha1", "hmac-ripemd160", "hmac-ripemd160@openssh.com":
		return 20, etm, true
	case "hmac-sha1-96", "hmac-md5-96":
		return 12, etm, true
	case "hmac-md5":
		return 16, etm, true
	case "umac-64@openssh.com", "umac-64":
		return 8, etm, true
	case "umac-128@openssh.com", "umac-128":
		return 16, etm, true
	case "none":
		return 0, false, true
	}
	return 0, false, false
}

// NewCipherSpec returns the spec for a cipher and MAC; ok is false when either
// is unknown, or compression makes sizes unpredictable (the spec then still
// knows the block and tag sizes: see Compressed).
func NewCipherSpec(cipher, mac, compression string) (CipherSpec, bool) {
	s := CipherSpec{Cipher: cipher, Compression: compression}
	block, aead := cipherBlock(cipher)
	if block == 0 {
		return s, false
	}
	s.block = block
	if aead {
		s.tag, s.aad = 16, 4
	} else {
		n, etm, ok := macLen(mac)
		if !ok {
			return s, false
		}
		s.MAC, s.tag = mac, n
		if etm {
			s.aad = 4
		}
	}
	s.sized = true
	if compression != "" && compression != "none" {
		s.compressed = true
		return s, false // zlib changes every size (FACTS §3.6)
	}
	return s, true
}

// Compressed reports whether the direction compresses (zlib): message sizes
// are then learned from the wire, not computed.
func (s CipherSpec) Compressed() bool { return s.compressed }

// WireSize is the TCP payload a single SSH packet with the given payload
// length occupies (FACTS §3.6: minimal deterministic padding).
func (s CipherSpec) WireSize(payload int) int {
	l := 5 + payload - s.aad
	pad := s.block - l%s.block
	if pad < 4 {
		pad += s.block
	}
	return 5 + payload + pad + s.tag
}

// kexInit holds the algorithm name-lists of an SSH_MSG_KEXINIT.
type kexInit struct {
	ciphers [2][]string // client→server, server→client
	macs    [2][]string
	comp    [2][]string
}

// parseKexInit parses a KEXINIT payload (starting with the message byte).
func parseKexInit(p []byte) (kexInit, bool) {
	var k kexInit
	if len(p) < 17 || p[0] != msgKexInit {
		return k, false
	}
	p = p[17:]
	var lists [10][]string
	for i := range lists {
		if len(p) < 4 {
			return k, false
		}
		n := binary.BigEndian.Uint32(p)
		p = p[4:]
		if uint64(n) > uint64(len(p)) {
			return k, false
		}
		if i >= 2 && i <= 7 && n > 0 {
			// only the cipher, MAC and compression lists are used; each
			// is bounded so hostile lists cost little
			if n > maxNameList || strings.Count(string(p[:n]), ",") >= maxNames {
				return k, false
			}
			lists[i] = strings.Split(string(p[:n]), ",")
		}
		p = p[n:]
	}
	k.ciphers = [2][]string{lists[2], lists[3]}
	k.macs = [2][]string{lists[4], lists[5]}
	k.comp = [2][]string{lists[6], lists[7]}
	return k, true
}

// negotiate picks the first client algorithm the server also offers (RFC
// 4253 §7.1), in time linear in the lists' lengths.
func negotiate(client, server []string) string {
	offered := make(map[string]bool, len(server))
	for _, s := range server {
		offered[s] = true
	}
	for _, c := range client {
		if offered[c] {
			return c
		}
	}
	return ""
}

// negotiateSpecs derives both directions' CipherSpecs from the two KEXINITs.
func negotiateSpecs(c, s kexInit) (specs [2]CipherSpec, ok [2]bool) {
	for d := 0; d < 2; d++ {
		cipher := negotiate(c.ciphers[d], s.ciphers[d])
		mac := ""
		if _, aead := cipherBlock(cipher); !aead {
			mac = negotiate(c.macs[d], s.macs[d])
		}
		comp := negotiate(c.comp[d], s.comp[d])
		specs[d], ok[d] = NewCipherSpec(cipher, mac, comp)
	}
	return specs, ok
}
