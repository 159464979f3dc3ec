package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/sshalive/sshalive/analyze"
)

// The fast path decodes, by hand, the frames nearly every capture is made
// of — untagged Ethernet or raw IP, then IPv4 without options or IPv6 with
// TCP as its next header — with exactly the outcome of the gopacket path
// (FuzzDecode compares the two on every input). Anything else (VLAN tags,
// cooked headers, IPv4 options, IPv6 extension headers, lengths that do
// not add up) goes to the gopacket path.

// fastEthernet reports whether it decided the frame (and then whether it
// held a TCP segment).
func (d *Decoder) fastEthernet(data []byte, seg *analyze.Segment) (handled, ok bool) {
	if len(data) < 14 {
		return false, false
	}
	switch layers.EthernetType(binary.BigEndian.Uint16(data[12:14])) {
	case layers.EthernetTypeIPv4:
		return d.fastIPv4(data[14:], seg)
	case layers.EthernetTypeIPv6:
		return d.fastIPv6(data[14:], seg)
	}
	return false, false
}

func (d *Decoder) fastIPv4(ip []byte, seg *analyze.Segment) (handled, ok bool) {
	if len(ip) < 20 || ip[0]&0x0f != 5 {
		return false, false
	}
	length := int(binary.BigEndian.Uint16(ip[2:4]))
	if length == 0 { // TSO: the capture is all there is
		length = len(ip)
	}
	if length < 20 {
		return false, false
	}
	if p := layers.IPProtocol(ip[9]); p == layers.IPProtocolIPv4 || p == layers.IPProtocolIPv6 {
		return false, false // a tunnel: gopacket decodes what it carries
	}
	if ip[9] != byte(layers.IPProtocolTCP) || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
		d.Stats.NonTCP++ // another protocol, or a fragment
		return true, false
	}
	declared := min(length, 0xffff) - 20
	payload := ip[20:min(len(ip), length)]
	src, dst := [4]byte(ip[12:16]), [4]byte(ip[16:20])
	seg.Src = netip.AddrPortFrom(netip.AddrFrom4(src), 0)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom4(dst), 0)
	return true, d.fastTCP(payload, declared, seg, src, dst)
}

func (d *Decoder) fastIPv6(ip []byte, seg *analyze.Segment) (handled, ok bool) {
	declared := 0
	if len(ip) >= 40 {
		declared = int(binary.BigEndian.Uint16(ip[4:6]))
	}
	if declared == 0 || ip[6] != byte(layers.IPProtocolTCP) {
		return false, false // gopacket refuses a 0 length without a jumbo option
	}
	payload := ip[40:]
	payload = payload[:min(declared, len(payload))]
	seg.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[8:24])), 0)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[24:40])), 0)
	return true, d.fastTCP(payload, declared, seg, [4]byte(ip[20:24]), [4]byte(ip[36:40]))
}

// fastTCP decodes the TCP header; src and dst are the last four bytes of
// the addresses, for the segment's Flow.
func (d *Decoder) fastTCP(payload []byte, declared int, seg *analyze.Segment, src, dst [4]byte) bool {
	if !tcpHeader(payload, declared, seg, src, dst) {
		d.Stats.Malformed++
		return false
	}
	d.Stats.TCP++
	return true
}
