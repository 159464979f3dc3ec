//go:build cgo

package capture

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// Live is a live capture on an interface through libpcap.
type Live struct {
	h      *pcap.Handle
	iface  string
	filter string
}

// Filter is the BPF expression in the kernel.
func (l *Live) Filter() string { return l.filter }

// OpenLive opens iface ("any" for all), compiles filter into the kernel and
// activates the capture. Reads time out after cfg.Timeout so a silent
// interface never blocks the caller.
func OpenLive(cfg LiveConfig) (*Live, error) {
	if cfg.Interface != "any" {
		if _, err := net.InterfaceByName(cfg.Interface); err != nil {
			return nil, fmt.Errorf("%s: %w (sshalive -D lists the interfaces)", cfg.Interface, ErrNoInterface)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 100 * time.Millisecond
	}
	in, err := pcap.NewInactiveHandle(cfg.Interface)
	if err != nil {
		return nil, liveErr(cfg.Interface, err)
	}
	defer in.CleanUp()
	if err := in.SetSnapLen(cfg.Snaplen); err != nil {
		return nil, liveErr(cfg.Interface, err)
	}
	if err := in.SetPromisc(cfg.Promisc); err != nil {
		return nil, liveErr(cfg.Interface, err)
	}
	if err := in.SetTimeout(cfg.Timeout); err != nil {
		return nil, liveErr(cfg.Interface, err)
	}
	if cfg.BufferSize > 0 {
		if err := in.SetBufferSize(cfg.BufferSize); err != nil {
			return nil, liveErr(cfg.Interface, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, liveErr(cfg.Interface, err)
	}
	if cfg.Interface == "any" {
		// SLL2 carries the interface index; libpcap before 1.10 has only
		// SLL, which the decoder reads too
		_ = h.SetLinkType(layers.LinkTypeLinuxSLL2)
	}
	filter := cfg.Filter
	if lt := h.LinkType(); (lt == layers.LinkTypeLinuxSLL || lt == layers.LinkTypeLinuxSLL2) && cfg.CookedFilter != "" {
		filter = cfg.CookedFilter
	}
	if filter != "" {
		if err := h.SetBPFFilter(filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("filter %q: %w", filter, err)
		}
	}
	return &Live{h: h, iface: cfg.Interface, filter: filter}, nil
}

// liveErr turns libpcap's activation errors, which are unexported types,
// into ErrPermission or a plain error naming the interface.
func liveErr(iface string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "ermission") || strings.Contains(msg, "not permitted") {
		return fmt.Errorf("%s: %w", iface, ErrPermission)
	}
	if strings.Contains(msg, "No such device") || strings.Contains(msg, "doesn't exist") {
		return fmt.Errorf("%s: %w (sshalive -D lists the interfaces)", iface, ErrNoInterface)
	}
	return fmt.Errorf("%s: %w", iface, err)
}

// ReadPacket returns the next packet, or ErrTimeout when none came within
// the read timeout. The data is valid until the next call.
func (l *Live) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := l.h.ZeroCopyReadPacketData()
	if errors.Is(err, pcap.NextErrorTimeoutExpired) {
		return nil, ci, ErrTimeout
	}
	return data, ci, err
}

// LinkType of the interface ("any" gives Linux SLL2).
func (l *Live) LinkType() layers.LinkType { return l.h.LinkType() }

// Snaplen is the capture length in effect.
func (l *Live) Snaplen() int { return int(l.h.SnapLen()) }

// Stats are libpcap's counters.
func (l *Live) Stats() (LiveStats, error) {
	s, err := l.h.Stats()
	if err != nil {
		return LiveStats{}, err
	}
	return LiveStats{Received: int64(s.PacketsReceived), KernelDropped: int64(s.PacketsDropped), IfDropped: int64(s.PacketsIfDropped)}, nil
}

// Close releases the handle. Call it from the goroutine that reads: the
// data of the last read points into the handle's buffer.
func (l *Live) Close() error {
	l.h.Close()
	return nil
}

// Interfaces lists the interfaces libpcap can capture on.
func Interfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(devs))
	for _, d := range devs {
		i := Interface{Name: d.Name, Description: d.Description}
		for _, a := range d.Addresses {
			i.Addresses = append(i.Addresses, a.IP.String())
		}
		if d.Flags&0x1 != 0 { // PCAP_IF_LOOPBACK
			i.Flags = append(i.Flags, "Loopback")
		}
		if d.Flags&0x2 != 0 { // PCAP_IF_UP
			i.Flags = append(i.Flags, "Up")
		}
		if d.Flags&0x4 != 0 { // PCAP_IF_RUNNING
			i.Flags = append(i.Flags, "Running")
		}
		out = append(out, i)
	}
	return out, nil
}
