//go:build !cgo

package capture

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// errNoLive: live capture goes through libpcap, which needs cgo.
var errNoLive = errors.New("live capture needs libpcap: this sshalive was built without cgo (use make build)")

// Live is unavailable without cgo.
type Live struct{}

// OpenLive fails in a build without cgo.
func OpenLive(cfg LiveConfig) (*Live, error) { return nil, errNoLive }

// ReadPacket is never reached.
func (l *Live) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, errNoLive
}

// LinkType is never reached.
func (l *Live) LinkType() layers.LinkType { return 0 }

// Filter is the BPF expression in the kernel.
func (l *Live) Filter() string { return "" }

// Snaplen is never reached.
func (l *Live) Snaplen() int { return 0 }

// Stats is never reached.
func (l *Live) Stats() (LiveStats, error) { return LiveStats{}, errNoLive }

// Close is never reached.
func (l *Live) Close() error { return nil }

// Interfaces fails in a build without cgo.
func Interfaces() ([]Interface, error) { return nil, errNoLive }
