package bpfc_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/sshalive/sshalive/capture/bpfc"
	"golang.org/x/net/bpf"
)

// run compiles expr for lt and runs it on frame.
func run(t *testing.T, expr string, lt layers.LinkType, frame []byte) int {
	t.Helper()
	prog, err := bpfc.Compile(expr, lt, 262144)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return n
}

// TestFixedRows: without libpcap (CGO_ENABLED=0 runs), a few expressions
// on known frames, accepted with the snaplen or rejected with 0. The
// values are libpcap's (TestMatchesLibpcap checks them all in a cgo run).
func TestFixedRows(t *testing.T) {
	ssh4 := netPkt{etIP, ip4("10.0.0.1", "10.0.0.2", 6, 5, 0, l4(6, 50000, 22))}
	ssh6 := netPkt{etIPv6, ip6("fe80::1", "fe80::2", 6, l4(6, 22, 50000))}
	udp4 := netPkt{etIP, ip4("10.0.0.1", "10.0.0.2", 17, 5, 0, l4(17, 50000, 22))}
	opts := netPkt{etIP, ip4("10.0.0.1", "10.0.0.2", 6, 7, 0, l4(6, 2222, 50000))}
	frag := netPkt{etIP, ip4("10.0.0.1", "10.0.0.2", 6, 5, 0x0001, l4(6, 22, 50000))}
	eth := func(p netPkt) []byte { b, _ := frame(layers.LinkTypeEthernet, p); return b }
	tests := []struct {
		expr  string
		lt    layers.LinkType
		frame []byte
		want  bool
	}{
		{"", layers.LinkTypeEthernet, nil, true},
		{"tcp port 22", layers.LinkTypeEthernet, eth(ssh4), true},
		{"tcp port 22", layers.LinkTypeEthernet, eth(udp4), false},
		{"port 22", layers.LinkTypeEthernet, eth(udp4), true},
		{"port 22", layers.LinkTypeEthernet, eth(frag), false},
		{"port 22", layers.LinkTypeEthernet, eth(ssh4)[:14+20+2], false}, // truncated before the dst port
		{"port 2222", layers.LinkTypeEthernet, eth(opts), true},
		{"port 22", layers.LinkTypeEthernet, eth(opts), false}, // options that read as 22 at a fixed offset
		{"src port 22", layers.LinkTypeEthernet, eth(ssh4), false},
		{"dst port 22 and src host 10.0.0.1", layers.LinkTypeEthernet, eth(ssh4), true},
		{"host 10.0.0.2 and not port 22", layers.LinkTypeEthernet, eth(ssh4), false},
		{"src net 10.0.0.0/8", layers.LinkTypeEthernet, eth(ssh4), true},
		{"dst net 10.0.0.0 mask 255.255.255.254", layers.LinkTypeEthernet, eth(ssh4), false},
		{"ip6 and src host fe80::1", layers.LinkTypeEthernet, eth(ssh6), true},
		{"portrange 2200-2299", layers.LinkTypeEthernet, eth(opts), true},
		{"port 22 or 2222", layers.LinkTypeEthernet, eth(opts), true},
		{"vlan 100 and tcp port 22", layers.LinkTypeEthernet, vlanFrame(ssh4, [2]uint16{0x8100, 100}), true},
		{"vlan 100 and tcp port 22", layers.LinkTypeEthernet, vlanFrame(ssh4, [2]uint16{0x8100, 200}), false},
		{"vlan and vlan 200 and port 22", layers.LinkTypeEthernet, vlanFrame(ssh4, [2]uint16{0x88a8, 100}, [2]uint16{0x8100, 200}), true},
		{"tcp port 22", layers.LinkTypeEthernet, vlanFrame(ssh4, [2]uint16{0x8100, 100}), false},
		{"tcp and (port 22) or (vlan and tcp and (port 22))", layers.LinkTypeEthernet, vlanFrame(ssh6, [2]uint16{0x9100, 7}), true},
		{"host 10.0.0.1", layers.LinkTypeEthernet, eth(netPkt{etARP, arp(1, "10.0.0.1", "10.0.0.9")}), true},
		{"ip host 10.0.0.1", layers.LinkTypeEthernet, eth(netPkt{etARP, arp(1, "10.0.0.1", "10.0.0.9")}), false},
		{"tcp port 22", layers.LinkTypeRaw, ssh6.b, true},
		{"ip", layers.LinkTypeRaw, ssh6.b, false},
		{"tcp port 22", layers.LinkTypeIPv4, ssh4.b, true},
		{"ip6 and port 22", layers.LinkTypeIPv6, ssh6.b, true},
		{"host 10.0.0.1 and port 22", layers.LinkTypeLinuxSLL, must(frame(layers.LinkTypeLinuxSLL, ssh4)), true},
		{"tcp port 22", layers.LinkType(276), must(frame(layers.LinkType(276), ssh6)), true},
		{"ip6 and tcp port 22", layers.LinkTypeNull, must(frame(layers.LinkTypeNull, ssh6)), true},
		{"ip and tcp port 22", layers.LinkTypeLoop, must(frame(layers.LinkTypeLoop, ssh4)), true},
		{"ip", layers.LinkTypeLoop, must(frame(layers.LinkTypeLoop, ssh6)), false},
	}
	for _, tt := range tests {
		want := 0
		if tt.want {
			want = 262144
		}
		if got := run(t, tt.expr, tt.lt, tt.frame); got != want {
			t.Errorf("%v %q on %s: %d, want %d", tt.lt, tt.expr, describe(tt.frame), got, want)
		}
	}
}

func must(b []byte, ok bool) []byte {
	if !ok {
		panic("link type cannot carry the packet")
	}
	return b
}

// TestErrors: syntax outside the subset wraps ErrUnsupported and names
// the word; malformed expressions and what libpcap refuses are plain
// errors with a one-line message.
func TestErrors(t *testing.T) {
	unsupported := map[string]string{
		"udp":                          `"udp" is outside`,
		"udp port 53":                  `"udp" is outside`,
		"icmp or tcp":                  `"icmp" is outside`,
		"ether host 00:11:22:33:44:55": `"ether" is outside`,
		"host example.com":             `"example.com" is outside`,
		"port http":                    `"http" is outside`,
		"tcp[13] & 2 != 0":             `"[" is outside`,
		"len > 100":                    `"len" is outside`,
		"ip proto 6":                   `"proto" is outside`,
		"net 10/8":                     `"10" is outside`,
		"host 10.1":                    `"10.1" is outside`,
		"host fe80::1%eth0":            `"%" is outside`,
	}
	for expr, want := range unsupported {
		_, err := bpfc.Compile(expr, layers.LinkTypeEthernet, 262144)
		if !errors.Is(err, bpfc.ErrUnsupported) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want ErrUnsupported %s", expr, err, want)
		}
	}
	plain := map[string]string{
		"(tcp":            "unbalanced parentheses",
		"tcp)":            "syntax error",
		"tcp and":         "missing operand",
		"port":            "missing operand",
		"tcp prot 22":     "syntax error",
		"port 70000":      "illegal port number 70000 > 65535",
		"ip and ip6":      "expression rejects all packets",
		"vlan 4096":       "VLAN tag 4096 greater than maximum 4095",
		"net 10.0.0.1/8":  "non-network bits set",
		"host 10.0.0.0/8": "mask syntax for networks only",
		"tcp or 22":       "needs a qualifier",
	}
	for expr, want := range plain {
		_, err := bpfc.Compile(expr, layers.LinkTypeEthernet, 262144)
		if err == nil || errors.Is(err, bpfc.ErrUnsupported) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want a plain error with %q", expr, err, want)
		}
	}
	if _, err := bpfc.Compile("vlan", layers.LinkTypeLinuxSLL, 262144); err == nil || !strings.Contains(err.Error(), "no VLAN support for Linux cooked v1") {
		t.Errorf("vlan on SLL: %v", err)
	}
	if _, err := bpfc.Compile("tcp", layers.LinkTypeIEEE80211Radio, 262144); !errors.Is(err, bpfc.ErrUnsupported) {
		t.Errorf("radiotap: %v, want ErrUnsupported", err)
	}
}

// TestLimits: long or deeply nested expressions are refused quickly.
func TestLimits(t *testing.T) {
	for _, expr := range []string{
		strings.Repeat("port 22 or ", 500) + "port 22",
		strings.Repeat("(", 65) + "tcp" + strings.Repeat(")", 65),
		strings.Repeat("not ", 65) + "tcp",
	} {
		start := time.Now()
		if _, err := bpfc.Compile(expr, layers.LinkTypeEthernet, 262144); err == nil {
			t.Errorf("%.40q...: compiled", expr)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%.40q...: %v", expr, d)
		}
	}
	// Within the limits, a long chain still fits the kernel's 4096 instructions.
	expr := "port 1"
	for p := 2; p <= 100; p++ {
		expr += " or port " + itoa(p)
	}
	prog, err := bpfc.Compile(expr, layers.LinkTypeEthernet, 262144)
	if err != nil || len(prog) > bpfc.MaxInsns {
		t.Errorf("100 ports: %d instructions, %v", len(prog), err)
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// FuzzCompile: any expression compiles or fails without panicking, in
// bounded time, to a program the VM accepts of at most 4096 instructions.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"tcp port 22", "vlan and (host 10.0.0.1 or port 22 or 2222)", "not (ip6 net fe80::/10)", "((", "port 22 or not 80 and portrange 1-2"} {
		f.Add(s, uint8(0))
	}
	lts := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypeLinuxSLL, 276, layers.LinkTypeNull, layers.LinkTypeLoop}
	f.Fuzz(func(t *testing.T, expr string, lt uint8) {
		start := time.Now()
		prog, err := bpfc.Compile(expr, lts[int(lt)%len(lts)], 262144)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d bytes took %v", len(expr), d)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(prog) == 0 || len(prog) > bpfc.MaxInsns {
			t.Fatalf("%d instructions", len(prog))
		}
		if _, err := bpf.NewVM(prog); err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
	})
}
