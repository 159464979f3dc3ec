//go:build !cgo

package capture

import (
	"errors"

	"github.com/gopacket/gopacket/layers"
)

// ErrNoFilterSupport: this binary was built without cgo, so libpcap cannot
// compile filter expressions.
var ErrNoFilterSupport = errors.New("filter expressions need libpcap: this sshalive was built without cgo (use make build)")

// Filter matches frames against a tcpdump filter expression.
type Filter struct{}

// CompileFilter fails in a build without cgo.
func CompileFilter(expr string, lt layers.LinkType, snaplen int) (*Filter, error) {
	return nil, ErrNoFilterSupport
}

// Match is never reached: CompileFilter always fails.
func (f *Filter) Match(frame []byte) bool { return false }

// ValidateFilter fails in a build without cgo.
func ValidateFilter(expr string) error { return ErrNoFilterSupport }
