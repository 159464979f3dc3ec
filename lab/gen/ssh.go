package main

import (
	"encoding/binary"
	"strings"
)

// suite is one cipher setup, the same both ways (OpenSSH's proposals are
// symmetric).
type suite struct {
	cipher, mac string // mac "" for AEAD ciphers
	block, tag  int
	aad         int // 4 when the length field is not padded (AEAD, -etm)
}

var suites = []suite{
	{"chacha20-poly1305@openssh.com", "", 8, 16, 4},
	{"aes128-gcm@openssh.com", "", 16, 16, 4},
	{"aes128-ctr", "hmac-sha2-256-etm@openssh.com", 16, 32, 4},
	{"aes128-ctr", "hmac-sha2-256", 16, 32, 0},
}

// wire is the TCP payload of one SSH packet with a payload of n bytes
// (FACTS §3.6: minimal padding, at least 4).
func (s suite) wire(n int) int {
	l := 5 + n - s.aad
	pad := s.block - l%s.block
	if pad < 4 {
		pad += s.block
	}
	return 5 + n + pad + s.tag
}

func (s suite) name() string {
	if s.mac == "" {
		return s.cipher
	}
	return s.cipher + " + " + s.mac
}

// Keepalive payload sizes (FACTS §3.1).
const (
	payGlobalReq   = 27 // GLOBAL_REQUEST keepalive@openssh.com, want_reply
	payChannelReq  = 31 // CHANNEL_REQUEST recipient keepalive@openssh.com, want_reply
	payReqFailure  = 1  // REQUEST_FAILURE
	payChanFailure = 5  // CHANNEL_FAILURE recipient
	payKeystroke   = 10 // CHANNEL_DATA of one byte
)

// avoid reports whether a non-keepalive record of this wire size could pass
// for a keepalive message: command output is redrawn when it does, so the
// planted truth has no ambiguous member.
func (s suite) avoid(size int) bool {
	switch size {
	case s.wire(payGlobalReq), s.wire(payChannelReq), s.wire(payReqFailure), s.wire(payChanFailure):
		return true
	}
	return false
}

// clearPacket frames an unencrypted SSH binary packet (block 8).
func clearPacket(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

func nameList(b []byte, names ...string) []byte {
	s := strings.Join(names, ",")
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// kexinit builds an SSH_MSG_KEXINIT payload offering the suite first, as a
// client or server configured with Ciphers=/MACs= would.
func kexinit(s suite, cookie byte, server bool) []byte {
	b := []byte{20}
	for i := range 16 {
		b = append(b, cookie+byte(i))
	}
	kex := []string{"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"}
	if server {
		kex = append(kex, "kex-strict-s-v00@openssh.com")
	} else {
		kex = append(kex, "ext-info-c", "kex-strict-c-v00@openssh.com")
	}
	b = nameList(b, kex...)
	b = nameList(b, "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256")
	ciphers := []string{s.cipher}
	macs := []string{"umac-64-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"}
	if s.mac != "" {
		macs = []string{s.mac}
	}
	for range 2 {
		b = nameList(b, ciphers...)
	}
	for range 2 {
		b = nameList(b, macs...)
	}
	for range 2 {
		b = nameList(b, "none", "zlib@openssh.com")
	}
	b = nameList(b)
	b = nameList(b)
	return append(b, 0, 0, 0, 0, 0)
}

var (
	clientVersions = []string{"OpenSSH_9.2p1 Debian-2+deb12u3", "OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "OpenSSH_9.0"}
	// Server versions; 9.2–9.4 probe at twice ClientAliveInterval.
	serverVersions = []string{"OpenSSH_9.2p1 Debian-2+deb12u3", "OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "OpenSSH_9.6p1 Ubuntu-3ubuntu13.5"}
)

// clientAliveFactor is how many ClientAliveIntervals an sshd of this banner
// waits between probes on a quiet link (FACTS §3.2).
func clientAliveFactor(banner string) int {
	if strings.HasPrefix(banner, "OpenSSH_9.2") || strings.HasPrefix(banner, "OpenSSH_9.3") || strings.HasPrefix(banner, "OpenSSH_9.4") {
		return 2
	}
	return 1
}
