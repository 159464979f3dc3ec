//go:build !(cgo && libpcap)

package capture

import (
	"errors"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/sshalive/sshalive/capture/bpfc"
)

// TestFilterNoFallback: without cgo, an expression outside the subset is
// one line naming the word and what can handle it.
func TestFilterNoFallback(t *testing.T) {
	for _, compile := range []func() error{
		func() error { _, err := CompileFilter("udp port 53", layers.LinkTypeEthernet, 262144); return err },
		func() error { _, err := CompileBPF("udp port 53", layers.LinkTypeEthernet, 262144); return err },
		func() error { return ValidateFilter("udp port 53") },
	} {
		err := compile()
		if !errors.Is(err, bpfc.ErrUnsupported) || !errors.Is(err, ErrNoFilterSupport) ||
			!strings.Contains(err.Error(), `"udp" is outside`) || !strings.Contains(err.Error(), "make build-libpcap") {
			t.Errorf("%v", err)
		}
	}
}
