package analyze

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestWireSizeTable pins the size arithmetic to FACTS §3.6's table.
func TestWireSizeTable(t *testing.T) {
	tests := []struct {
		cipher, mac              string
		gr, cr, reqFail, chnFail int
	}{
		{"chacha20-poly1305@openssh.com", "", 52, 60, 28, 36},
		{"aes128-gcm@openssh.com", "", 52, 68, 36, 36},
		{"aes256-gcm@openssh.com", "", 52, 68, 36, 36},
		{"aes128-ctr", "hmac-sha2-256", 80, 80, 48, 48},
		{"aes256-ctr", "hmac-sha2-256-etm@openssh.com", 68, 84, 52, 52},
		{"aes128-ctr", "hmac-sha2-512", 112, 112, 80, 80},
		{"aes128-ctr", "hmac-sha2-512-etm@openssh.com", 100, 116, 84, 84},
		{"aes128-ctr", "umac-64-etm@openssh.com", 44, 60, 28, 28},
		{"aes128-ctr", "umac-128-etm@openssh.com", 52, 68, 36, 36},
		{"aes128-ctr", "umac-64@openssh.com", 56, 56, 24, 24},
		{"aes128-ctr", "umac-128@openssh.com", 64, 64, 32, 32},
		{"aes128-ctr", "hmac-sha1", 68, 68, 36, 36},
		{"aes128-ctr", "hmac-sha1-etm@openssh.com", 56, 72, 40, 40},
	}
	for _, tt := range tests {
		s, ok := NewCipherSpec(tt.cipher, tt.mac, "none")
		if !ok {
			t.Fatalf("%s %s: unknown", tt.cipher, tt.mac)
		}
		got := [4]int{s.WireSize(27), s.WireSize(31), s.WireSize(1), s.WireSize(5)}
		want := [4]int{tt.gr, tt.cr, tt.reqFail, tt.chnFail}
		if got != want {
			t.Errorf("%s %s: sizes %v, want %v", tt.cipher, tt.mac, got, want)
		}
	}
	if _, ok := NewCipherSpec("chacha20-poly1305@openssh.com", "", "zlib@openssh.com"); ok {
		t.Error("compression must make sizes unknown")
	}
}

func TestOpenSSHVersion(t *testing.T) {
	for _, tt := range []struct {
		line     string
		maj, min int
		ok       bool
	}{
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", 9, 2, true},
		{"SSH-2.0-OpenSSH_10.0", 10, 0, true},
		{"SSH-2.0-dropbear_2022.83", 0, 0, false},
		{"SSH-1.99-Cisco-1.25", 0, 0, false},
	} {
		b, ok := parseBanner(tt.line)
		if !ok {
			t.Fatalf("%q: not parsed", tt.line)
		}
		maj, min, ok := b.OpenSSHVersion()
		if maj != tt.maj || min != tt.min || ok != tt.ok {
			t.Errorf("%q: %d.%d %v", tt.line, maj, min, ok)
		}
		if b.String() != tt.line {
			t.Errorf("round trip %q → %q", tt.line, b.String())
		}
	}
}

// TestHostileKexInit: name-lists of thousands of names are not read (a
// KEXINIT whose lists hold ~17 000 disjoint names once took 2.3 s of CPU per
// connection); negotiation is a set lookup.
func TestHostileKexInit(t *testing.T) {
	var names []string
	for i := range 17000 {
		names = append(names, fmt.Sprintf("x%d@example.com", i))
	}
	list := strings.Join(names, ",")
	p := []byte{msgKexInit}
	p = append(p, make([]byte, 16)...)
	for range 10 {
		p = binary.BigEndian.AppendUint32(p, uint32(len(list)))
		p = append(p, list...)
	}
	p = append(p, 0, 0, 0, 0, 0)
	if _, ok := parseKexInit(p); ok {
		t.Error("a KEXINIT with 17 000 names per list was read")
	}
	other := slices.Clone(names)
	for i := range other {
		other[i] += ".other"
	}
	if got := negotiate(names, other); got != "" {
		t.Errorf("disjoint lists negotiated %q", got)
	}
}
