//go:build !(cgo && libpcap)

package capture

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// libpcapCompile: a build without libpcap (the default) has none to fall back to, so
// an expression outside capture/bpfc's subset is an error naming the word.
func libpcapCompile(expr string, lt layers.LinkType, snaplen int, unsupported error) ([]bpf.RawInstruction, error) {
	return nil, fmt.Errorf("%w; %w", unsupported, ErrNoFilterSupport)
}
