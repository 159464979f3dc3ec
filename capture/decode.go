package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/sshalive/sshalive/analyze"
)

// DecodeStats counts what the Decoder saw.
type DecodeStats struct {
	Packets   int64 // packets given to Decode
	TCP       int64 // decoded into a Segment
	NonTCP    int64 // well-formed but not TCP over IPv4/IPv6 (ARP, UDP, ...)
	Malformed int64 // too short or inconsistent to decode
}

// Decoder turns link-layer frames into analyze.Segments with one reused
// DecodingLayerParser. It allocates nothing per packet.
type Decoder struct {
	parser  *gopacket.DecodingLayerParser
	parser6 *gopacket.DecodingLayerParser // raw IP: frames starting with IPv6
	raw     bool                          // raw IP: the parser is picked per packet
	ether   bool                          // Ethernet: the fast path applies (fastpath.go)
	// slowOnly turns the fast path off (the tests compare the two).
	slowOnly bool
	decoded  []gopacket.LayerType

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	lo    layers.Loopback
	ip4   layers.IPv4
	ip6   layers.IPv6

	Stats DecodeStats
}

// firstLayer maps a capture's link type to the layer its frames start with.
func firstLayer(lt layers.LinkType) (gopacket.LayerType, bool, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, false, nil
	case layers.LinkTypeLinuxSLL: // "-i any", libpcap < 1.10
		return layers.LayerTypeLinuxSLL, false, nil
	case layers.LinkTypeLinuxSLL2: // "-i any", libpcap >= 1.10
		return layers.LayerTypeLinuxSLL2, false, nil
	case layers.LinkTypeNull, layers.LinkTypeLoop: // BSD/macOS loopback
		return layers.LayerTypeLoopback, false, nil
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return layers.LayerTypeIPv4, true, nil
	}
	return 0, false, fmt.Errorf("link type %d (%v): %w", int(lt), lt, ErrUnsupportedLinkType)
}

// NewDecoder returns a Decoder for frames of link type lt.
func NewDecoder(lt layers.LinkType) (*Decoder, error) {
	first, raw, err := firstLayer(lt)
	if err != nil {
		return nil, err
	}
	d := &Decoder{raw: raw, ether: lt == layers.LinkTypeEthernet, decoded: make([]gopacket.LayerType, 0, 8)}
	// TCP is parsed by hand (tcpHeader): gopacket's TCP layer rejects a
	// header whose options were cut by the snaplen, and only the fixed
	// 20 bytes are needed.
	d.parser = d.newParser(first)
	if raw {
		d.parser6 = d.newParser(layers.LayerTypeIPv6)
	}
	return d, nil
}

func (d *Decoder) newParser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	p := gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo, &d.ip4, &d.ip6)
	p.IgnoreUnsupported = true
	return p
}

// Decode fills seg from one frame and reports whether it held a TCP segment.
// seg.Payload aliases data.
func (d *Decoder) Decode(data []byte, ci gopacket.CaptureInfo, seg *analyze.Segment) bool {
	d.Stats.Packets++
	if !d.slowOnly {
		var handled, ok bool
		switch {
		case d.ether:
			handled, ok = d.fastEthernet(data, seg)
		case d.raw && len(data) > 0 && data[0]>>4 == 4:
			handled, ok = d.fastIPv4(data, seg)
		case d.raw && len(data) > 0 && data[0]>>4 == 6:
			handled, ok = d.fastIPv6(data, seg)
		}
		if handled {
			seg.At = ci.Timestamp
			return ok
		}
	}
	return d.decodeLayers(data, ci, seg)
}

// decodeLayers decodes data with gopacket's DecodingLayerParser.
func (d *Decoder) decodeLayers(data []byte, ci gopacket.CaptureInfo, seg *analyze.Segment) bool {
	parser := d.parser
	if d.raw {
		if len(data) == 0 {
			d.Stats.Malformed++
			return false
		}
		switch data[0] >> 4 {
		case 4:
		case 6:
			parser = d.parser6
		default:
			d.Stats.Malformed++
			return false
		}
	}
	err := parser.DecodeLayers(data, &d.decoded)
	if len(d.decoded) == 0 {
		d.Stats.Malformed++
		return false
	}
	var ipPayload []byte
	var ipPayloadLen int
	var src, dst [4]byte // the addresses' last four bytes
	switch d.decoded[len(d.decoded)-1] {
	case layers.LayerTypeIPv4:
		if d.ip4.Protocol != layers.IPProtocolTCP || d.ip4.FragOffset != 0 || d.ip4.Flags&layers.IPv4MoreFragments != 0 {
			d.Stats.NonTCP++
			return false
		}
		a4, b4 := [4]byte(d.ip4.SrcIP.To4()), [4]byte(d.ip4.DstIP.To4())
		seg.Src = netip.AddrPortFrom(netip.AddrFrom4(a4), 0)
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom4(b4), 0)
		src, dst = a4, b4
		ipPayload = d.ip4.Payload
		ipPayloadLen = int(d.ip4.Length) - int(d.ip4.IHL)*4
	case layers.LayerTypeIPv6:
		if d.ip6.NextHeader != layers.IPProtocolTCP {
			d.Stats.NonTCP++
			return false
		}
		a16, b16 := [16]byte(d.ip6.SrcIP.To16()), [16]byte(d.ip6.DstIP.To16())
		seg.Src = netip.AddrPortFrom(netip.AddrFrom16(a16), 0)
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom16(b16), 0)
		src, dst = [4]byte(a16[12:]), [4]byte(b16[12:])
		ipPayload = d.ip6.Payload
		ipPayloadLen = int(d.ip6.Length)
		if ipPayloadLen == 0 { // jumbogram or TSO: the capture is all there is
			ipPayloadLen = len(ipPayload)
		}
	default:
		if err != nil {
			d.Stats.Malformed++
		} else {
			d.Stats.NonTCP++
		}
		return false
	}
	if !tcpHeader(ipPayload, ipPayloadLen, seg, src, dst) {
		d.Stats.Malformed++
		return false
	}
	seg.At = ci.Timestamp
	d.Stats.TCP++
	return true
}

// tcpHeader decodes the fixed TCP header and the payload bounds. ipLen is the
// IP payload length the IP header declares; b is what was captured of it;
// src and dst are the last four bytes of the addresses (for Flow).
func tcpHeader(b []byte, ipLen int, seg *analyze.Segment, src, dst [4]byte) bool {
	if len(b) < 20 {
		return false
	}
	off := int(b[12]>>4) * 4
	if off < 20 || off > ipLen {
		return false
	}
	sport, dport := binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
	seg.Src = netip.AddrPortFrom(seg.Src.Addr(), sport)
	seg.Dst = netip.AddrPortFrom(seg.Dst.Addr(), dport)
	seg.Flow = analyze.FlowOf(src, dst, sport, dport)
	seg.Seq = binary.BigEndian.Uint32(b[4:8])
	seg.Ack = binary.BigEndian.Uint32(b[8:12])
	seg.Flags = analyze.TCPFlags(b[13])
	seg.Window = binary.BigEndian.Uint16(b[14:16])
	seg.PayloadLen = ipLen - off
	if off < len(b) {
		seg.Payload = b[off:min(len(b), ipLen)]
	} else {
		seg.Payload = nil
	}
	return true
}
