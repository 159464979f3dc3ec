//go:build cgo && libpcap

package bpfc_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"github.com/sshalive/sshalive/capture/bpfc"
	"golang.org/x/net/bpf"
)

// libpcapRows are compiled by both compilers for every link type; where
// libpcap compiles a row, both programs must return the same value on
// every frame of the corpus, and where libpcap refuses it (for that link
// type) ours must refuse it too.
var libpcapRows = []string{
	"",
	"tcp", "ip", "ip6", "vlan", "not tcp", "not vlan", "ip or ip6", "not ip and not ip6",
	"port 22", "tcp port 22", "src port 22", "dst port 22", "tcp src port 22", "tcp dst port 2222",
	"src or dst port 22", "src and dst port 22", "dst or src port 2222", "port 22 or 2222",
	"tcp port 22 or tcp port 2222", "port (22 or 80)", "tcp port (22 or 2222) and not 80",
	"not port 22", "not (port 22 or port 80)", "! port 22 && ! port 80", "port 22 || port 80",
	"port 0x16", "port 026", "tcp port ssh", "port ssh",
	"portrange 2200-2299", "portrange 2299-2200", "tcp portrange 2200-2299", "src portrange 1-1024",
	"dst portrange 2200-2299", "portrange 22", "src port 22 and dst portrange 1024-65535",
	"host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.1", "src and dst host 10.0.0.1",
	"src or dst host 10.0.0.1", "ip host 10.0.0.1", "ip src host 10.0.0.1", "host 10.0.0.1 and not port 22",
	"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 and port 22", "not (src host 10.0.0.1 and dst host 10.0.0.2)",
	"net 10.0.0.0/8", "src net 192.168.0.0/16", "dst net 10.0.0.0 mask 255.0.0.0", "net 0.0.0.0/0",
	"ip net 172.16.0.0/12", "net 10.0.0.0 mask 255.0.255.0", "net 10.0.0.1", "dst net 10.0.0.0/30",
	"ip6 and dst host fe80::1", "host fe80::1", "src host 2001:db8::1", "ip6 host fe80::1 and tcp",
	"net fe80::/10", "ip6 src net 2001:db8::/32", "net ::/0", "host ::ffff:10.0.0.1", "net 2001:db8::/33",
	"src and dst host fe80::1", "host fe80::1/128",
	"vlan 100", "vlan 200", "vlan 0", "vlan 100 and tcp", "vlan and tcp port 22", "vlan and vlan 200",
	"vlan 100 and vlan 200 and port 22", "vlan and host 10.0.0.1", "vlan and ip6 and port 22",
	"tcp and (port 22) or (vlan and tcp and (port 22))", "port 22 or (vlan and port 22)", "vlan or tcp",
	"tcp and port 22 or ip6", "tcp or ip6 and port 22", "port 22 and (tcp) or 80",
	"(host 10.0.0.1 or host 10.0.0.2) and (port 22 or port 2222)",
	"host 10.0.0.1 and (tcp port 22 or tcp port 2222) and not src net 10.0.0.0/30",
	"ip and tcp and port 22", "tcp and not port 22", "port 22 and not vlan", "port 22 and ip6",
	"not not port 22", "((((port 22))))", "src 10.0.0.1", "dst fe80::1", "port 22 or not 80",
	"src port 22 and dst port 2222", "host 10.0.0.1 and host 10.0.0.2", "not host 10.0.0.1 and not host 10.0.0.2",
	"port 22 and port 2222", "tcp port 22 and not tcp port 2222", "portrange 2200-2299 or port 22",
	"(port 22 or port 2222) and (host 10.0.0.1 or host 10.0.0.2)", "vlan and (port 22 or 2222)",
	"host fe80::1 or fe80::2", "src net 10.0.0.0/8 and dst net 10.0.0.0/8", "net 10.0.0.0/8 or net 192.168.0.0/16",
	"port 22 or port 80 or port 2222 or port 443", "not port 22 and not port 80 and not port 2222",
	"tcp port 22 or (tcp port 2222 and host 10.0.0.1) or vlan", "ip6 or port 22", "port 22 or ip", "ip and port 22 or ip6 and port 2222",
	"src host 10.0.0.1 or dst host 10.0.0.2 or src port 22", "dst port 22 or src port 22", "tcp or port 22",
	"(vlan 100 or vlan 200) and port 22", "vlan 100 and (host 10.0.0.1 or port 2222)",
	// Errors: libpcap refuses these, so must we.
	"port 70000", "(tcp", "tcp)", "port", "tcp and", "and tcp", "ip and ip6", "tcp and not tcp",
	"host 10.0.0.0/8", "net 10.0.0.1/8", "ip6 host 10.0.0.1", "ip host fe80::1", "tcp host 10.0.0.1",
	"ip port 22", "vlan 4096", "net 10.0.0.0/33", "net fe80::/129", "tcp or 22", "(22)", "port 22 or",
	"vlan 100 or 200", "src or port 22", "host fe80::1/64", "port 08", "port 22 port 23", "src and src port 22",
}

// runProg runs a program in x/net/bpf's VM: the value it returns, or -1
// and the error.
func runProg(vm *bpf.VM, b []byte) (int, error) {
	n, err := vm.Run(b)
	if err != nil {
		return -1, err
	}
	return n, nil
}

// libpcapVM compiles expr with libpcap.
func libpcapVM(dlt layers.LinkType, snaplen int, expr string) (*bpf.VM, error) {
	insns, err := pcap.CompileBPFFilter(dlt, snaplen, expr)
	if err != nil {
		return nil, err
	}
	raw := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, fmt.Errorf("libpcap program does not disassemble")
	}
	return bpf.NewVM(prog)
}

// TestMatchesLibpcap: every row × every link type × every corpus frame,
// our program and libpcap's return the same value; the same rows fail.
func TestMatchesLibpcap(t *testing.T) {
	const snaplen = 262144
	real := fromCaptures(t, 12)
	synth := synthesized()
	rows, frames := 0, 0
	for _, l := range linkTypes {
		frs, _ := corpus(l.lt, real, synth)
		frames += len(frs)
		for _, expr := range libpcapRows {
			rows++
			theirs, perr := libpcapVM(l.dlt, snaplen, expr)
			prog, err := bpfc.Compile(expr, l.lt, snaplen)
			if errors.Is(err, bpfc.ErrUnsupported) {
				t.Errorf("%v %q: unsupported: %v", l.lt, expr, err)
				continue
			}
			if (err != nil) != (perr != nil) {
				t.Errorf("%v %q: ours: %v; libpcap: %v", l.lt, expr, err, perr)
				continue
			}
			if err != nil {
				continue
			}
			ours, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("%v %q: our program does not load: %v", l.lt, expr, err)
			}
			bad := 0
			for _, b := range frs {
				want, werr := runProg(theirs, b)
				got, gerr := runProg(ours, b)
				if got != want || (werr == nil) != (gerr == nil) {
					if bad++; bad <= 3 {
						t.Errorf("%v %q: ours %d (%v), libpcap %d (%v) on %s", l.lt, expr, got, gerr, want, werr, describe(b))
					}
				}
			}
			if bad > 3 {
				t.Errorf("%v %q: %d frames differ in all", l.lt, expr, bad)
			}
		}
	}
	t.Logf("%d expressions × %d link types = %d rows; %d frames in all (%d real IP packets, %d synthesized)",
		len(libpcapRows), len(linkTypes), rows, frames, len(real), len(synth))
}

// TestSnaplenReturned: accepted frames return the snaplen given, as
// libpcap's programs do.
func TestSnaplenReturned(t *testing.T) {
	for _, snap := range []int{65535, 96} {
		for _, expr := range []string{"", "tcp port 22", "vlan and host 10.0.0.1"} {
			theirs, err := libpcapVM(layers.LinkTypeEthernet, snap, expr)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := bpfc.Compile(expr, layers.LinkTypeEthernet, snap)
			if err != nil {
				t.Fatal(err)
			}
			ours, _ := bpf.NewVM(prog)
			frs, _ := corpus(layers.LinkTypeEthernet, nil, synthesized())
			for _, b := range frs {
				want, _ := runProg(theirs, b)
				if got, _ := runProg(ours, b); got != want {
					t.Fatalf("snaplen %d %q: ours %d, libpcap %d on %s", snap, expr, got, want, describe(b))
				}
			}
		}
	}
}
