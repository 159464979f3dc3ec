package capture

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/sshalive/sshalive/capture/bpfc"
	"golang.org/x/net/bpf"
)

// sshFrame is an Ethernet frame of a TCP segment from port 22.
func sshFrame() []byte {
	b := []byte{0, 0, 0x5e, 0, 0x53, 1, 0, 0, 0x5e, 0, 0x53, 2, 0x08, 0x00}
	ip := []byte{0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	tcp := []byte{0, 22, 0xc3, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x10, 0, 0, 0, 0, 0, 0}
	return append(append(b, ip...), tcp...)
}

// TestFilterSubset: in either build, an expression in bpfc's subset
// compiles without libpcap, matches, and CompileBPF returns the same
// program assembled.
func TestFilterSubset(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want bool
	}{
		{"tcp port 22", true},
		{"host 10.0.0.1 and not port 22", false},
		{"tcp and (port 22) or (vlan and tcp and (port 22))", true},
		{"", true},
	} {
		f, err := CompileFilter(tt.expr, layers.LinkTypeEthernet, 262144)
		if err != nil {
			t.Fatalf("%q: %v", tt.expr, err)
		}
		if got := f.Match(sshFrame()); got != tt.want {
			t.Errorf("%q: match %v, want %v", tt.expr, got, tt.want)
		}
		for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw} {
			raw, err := CompileBPF(tt.expr, lt, 1500)
			prog, perr := bpfc.Compile(tt.expr, lt, 1500)
			if (err != nil) != (perr != nil) {
				t.Fatalf("%q on %v: %v, bpfc: %v", tt.expr, lt, err, perr)
			}
			want, _ := bpf.Assemble(prog)
			if !slices.Equal(raw, want) {
				t.Errorf("%q on %v: CompileBPF differs from bpfc", tt.expr, lt)
			}
		}
	}
	if err := ValidateFilter("tcp prot 22"); err == nil || errors.Is(err, bpfc.ErrUnsupported) || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("syntax error: %v", err)
	}
}
