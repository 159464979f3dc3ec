//go:build cgo && libpcap

package capture

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestFilterFallback: with cgo, what bpfc does not compile goes to
// libpcap, for raw-IP link types too (LINKTYPE_RAW, 101, is DLT_RAW, 12,
// to pcap_open_dead).
func TestFilterFallback(t *testing.T) {
	f, err := CompileFilter("udp or tcp[13] & 0x10 != 0", layers.LinkTypeEthernet, 262144)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(sshFrame()) {
		t.Error("the ACK segment should match")
	}
	if _, err := CompileBPF("udp port 53", layers.LinkTypeRaw, 262144); err != nil {
		t.Error(err)
	}
	if err := ValidateFilter("udp prot 53"); err == nil {
		t.Error("libpcap's syntax error was lost")
	}
}
