//go:build cgo

package capture

import (
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// CompileBPF (temporary, until the pure-Go compiler lands).
func CompileBPF(expr string, lt layers.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	if lt == layers.LinkTypeRaw {
		lt = 12
	}
	insns, err := pcap.CompileBPFFilter(lt, snaplen, expr)
	if err != nil {
		return nil, err
	}
	raw := make([]bpf.RawInstruction, len(insns))
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return raw, nil
}
