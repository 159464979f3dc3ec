package analyze

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// kexPayload builds a KEXINIT payload whose ten name-lists are lists.
func kexPayload(lists [10]string) []byte {
	p := []byte{msgKexInit}
	p = append(p, make([]byte, 16)...)
	for _, l := range lists {
		p = binary.BigEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	return append(p, 0, 0, 0, 0, 0)
}

// FuzzNegotiate: two different KEXINITs, as a hostile client and server
// would send them, against each other: parsing and negotiation never
// panic, read no list past its bounds, and whatever is negotiated was
// offered by both sides.
func FuzzNegotiate(f *testing.F) {
	openssh := [10]string{"curve25519-sha256", "ssh-ed25519",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,hmac-sha2-256", "umac-64-etm@openssh.com,hmac-sha2-256", "none,zlib@openssh.com", "none,zlib@openssh.com", "", ""}
	putty := openssh
	putty[2], putty[3] = "aes256-ctr,aes128-cbc", "aes256-ctr,aes128-cbc"
	putty[4], putty[5] = "hmac-sha2-256,hmac-sha1", "hmac-sha2-256,hmac-sha1"
	putty[6], putty[7] = "zlib@openssh.com,none", "zlib@openssh.com,none"
	f.Add(kexPayload(openssh), kexPayload(putty))
	f.Add(kexPayload(putty), kexPayload(openssh))
	f.Add(kexPayload(openssh), []byte{msgKexInit, 0, 0})
	f.Fuzz(func(t *testing.T, client, server []byte) {
		c, okc := parseKexInit(client)
		s, oks := parseKexInit(server)
		for _, k := range []kexInit{c, s} {
			for _, l := range [][]string{k.ciphers[0], k.ciphers[1], k.macs[0], k.macs[1], k.comp[0], k.comp[1]} {
				if len(l) > maxNames || len(strings.Join(l, ",")) > maxNameList {
					t.Fatalf("a list of %d names read", len(l))
				}
			}
		}
		if !okc || !oks {
			return
		}
		for d := range 2 {
			for _, pair := range [][2][]string{{c.ciphers[d], s.ciphers[d]}, {c.macs[d], s.macs[d]}, {c.comp[d], s.comp[d]}} {
				got := negotiate(pair[0], pair[1])
				if got != "" && (!slices.Contains(pair[0], got) || !slices.Contains(pair[1], got)) {
					t.Fatalf("negotiated %q, not offered by both", got)
				}
			}
		}
		specs, ok := negotiateSpecs(c, s)
		for d := range 2 {
			if ok[d] && specs[d].WireSize(16) <= 16 {
				t.Fatalf("spec %+v: a 16-byte payload takes %d bytes", specs[d], specs[d].WireSize(16))
			}
		}
	})
}
