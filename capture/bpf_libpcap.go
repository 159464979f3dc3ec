//go:build cgo && libpcap

package capture

import (
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// libpcapCompile compiles what capture/bpfc does not (unsupported, its
// error) with libpcap.
func libpcapCompile(expr string, lt layers.LinkType, snaplen int, unsupported error) ([]bpf.RawInstruction, error) {
	// pcap_open_dead wants the DLT: DLT_RAW (12) for LINKTYPE_RAW (101).
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
