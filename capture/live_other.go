//go:build !linux

package capture

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// errNoLive: live capture reads Linux AF_PACKET sockets.
var errNoLive = errors.New("live capture works on Linux only: capture with tcpdump and analyse with -r")

// Live is unavailable off Linux.
type Live struct{}

// OpenLive fails off Linux.
func OpenLive(cfg LiveConfig) (*Live, error) { return nil, errNoLive }

// OpenLiveGroup fails off Linux.
func OpenLiveGroup(cfg LiveConfig, n int) ([]*Live, error) { return nil, errNoLive }

// ReadPacket is never reached.
func (l *Live) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, errNoLive
}

// LinkType is never reached.
func (l *Live) LinkType() layers.LinkType { return 0 }

// Filter is never reached.
func (l *Live) Filter() string { return "" }

// Snaplen is never reached.
func (l *Live) Snaplen() int { return 0 }

// Stats is never reached.
func (l *Live) Stats() (LiveStats, error) { return LiveStats{}, errNoLive }

// Close is never reached.
func (l *Live) Close() error { return nil }

// Interfaces fails off Linux.
func Interfaces() ([]Interface, error) { return nil, errNoLive }

// SymmetricFanout is false off Linux.
func SymmetricFanout() bool { return false }
