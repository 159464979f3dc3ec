//go:build cgo

package capture

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// Filter matches frames against a tcpdump filter expression. libpcap
// compiles the expression once; the program then runs in x/net/bpf's
// pure-Go VM, so matching costs no cgo call per packet.
type Filter struct {
	vm *bpf.VM
}

// CompileFilter compiles expr for frames of link type lt.
func CompileFilter(expr string, lt layers.LinkType, snaplen int) (*Filter, error) {
	insns, err := pcap.CompileBPFFilter(lt, snaplen, expr)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	raw := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, fmt.Errorf("filter %q: compiled program uses instructions the matcher does not support", expr)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return &Filter{vm: vm}, nil
}

// Match reports whether the frame passes the filter.
func (f *Filter) Match(frame []byte) bool {
	n, err := f.vm.Run(frame)
	return err == nil && n > 0
}

// ValidateFilter reports a syntax error in expr before any file is read.
func ValidateFilter(expr string) error {
	_, err := CompileFilter(expr, layers.LinkTypeEthernet, 262144)
	return err
}
