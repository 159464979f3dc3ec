//go:build !cgo

package capture

import (
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// CompileBPF (temporary, until the pure-Go compiler lands).
func CompileBPF(expr string, lt layers.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	return nil, ErrNoFilterSupport
}
