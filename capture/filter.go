package capture

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/sshalive/sshalive/capture/bpfc"
	"golang.org/x/net/bpf"
)

// ErrNoFilterSupport is wrapped, in a build without libpcap, by the error for
// an expression outside what capture/bpfc compiles.
var ErrNoFilterSupport = errors.New("the libpcap build of sshalive (make build-libpcap) or tcpdump can handle it")

// Filter matches frames against a tcpdump filter expression. The program
// (from capture/bpfc, or libpcap for what bpfc does not compile) runs in
// x/net/bpf's pure-Go VM, so matching costs no cgo call per packet.
type Filter struct {
	vm *bpf.VM
}

// CompileFilter compiles expr for frames of link type lt.
func CompileFilter(expr string, lt layers.LinkType, snaplen int) (*Filter, error) {
	prog, err := bpfc.Compile(expr, lt, snaplen)
	if errors.Is(err, bpfc.ErrUnsupported) {
		var raw []bpf.RawInstruction
		if raw, err = libpcapCompile(expr, lt, snaplen, err); err != nil {
			return nil, fmt.Errorf("filter %q: %w", expr, err)
		}
		var ok bool
		if prog, ok = bpf.Disassemble(raw); !ok {
			return nil, fmt.Errorf("filter %q: compiled program uses instructions the matcher does not support", expr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return &Filter{vm: vm}, nil
}

// CompileBPF compiles expr for frames of link type lt into an assembled
// program, for a socket filter (SO_ATTACH_FILTER): lt is Ethernet for an
// AF_PACKET SOCK_RAW socket, layers.LinkTypeRaw for SOCK_DGRAM. The
// fallback to libpcap is CompileFilter's.
func CompileBPF(expr string, lt layers.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	prog, err := bpfc.Compile(expr, lt, snaplen)
	if errors.Is(err, bpfc.ErrUnsupported) {
		raw, err := libpcapCompile(expr, lt, snaplen, err)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", expr, err)
		}
		return raw, nil
	}
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return raw, nil
}

// Match reports whether the frame passes the filter.
func (f *Filter) Match(frame []byte) bool {
	n, err := f.vm.Run(frame)
	return err == nil && n > 0
}

// ValidateFilter reports an error in expr before any file is read.
func ValidateFilter(expr string) error {
	_, err := CompileFilter(expr, layers.LinkTypeEthernet, 262144)
	return err
}
