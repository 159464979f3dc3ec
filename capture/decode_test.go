package capture

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sshalive/sshalive/analyze"
)

// frame serialises a TCP segment over the given link layers.
func frame(t testing.TB, link []gopacket.SerializableLayer, v6 bool, payload []byte) []byte {
	t.Helper()
	tcp := &layers.TCP{SrcPort: 50000, DstPort: 22, Seq: 1000, Ack: 2000, ACK: true, PSH: true, Window: 501, DataOffset: 8,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	var ip gopacket.NetworkLayer
	if v6 {
		ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		ip = ip6
	} else {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{198, 18, 0, 1}, DstIP: net.IP{198, 18, 0, 2}}
		ip = ip4
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	all := append(append([]gopacket.SerializableLayer{}, link...), ip.(gopacket.SerializableLayer), tcp, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func eth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
}

func TestDecodeLinkTypes(t *testing.T) {
	payload := bytes.Repeat([]byte{0xab}, 52)
	sll2 := func(v6 bool) []byte { // 20-byte LINUX_SLL2 header, then IP
		h := make([]byte, 20)
		proto := uint16(0x0800)
		if v6 {
			proto = 0x86dd
		}
		h[0], h[1] = byte(proto>>8), byte(proto)
		h[8], h[9] = 0, 1 // ARPHRD_ETHER
		h[10] = 4         // outgoing
		h[11] = 6
		return append(h, frame(t, nil, v6, payload)...)
	}
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		v6   bool
	}{
		{"ethernet", layers.LinkTypeEthernet, frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, false, payload), false},
		{"ethernet ipv6", layers.LinkTypeEthernet, frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6)}, true, payload), true},
		{"802.1Q", layers.LinkTypeEthernet, frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeDot1Q),
			&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}}, false, payload), false},
		{"QinQ", layers.LinkTypeEthernet, frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}}, false, payload), false},
		{"raw ipv4", layers.LinkTypeRaw, frame(t, nil, false, payload), false},
		{"raw ipv6", layers.LinkTypeRaw, frame(t, nil, true, payload), true},
		{"ipv6 link type", layers.LinkTypeIPv6, frame(t, nil, true, payload), true},
		{"bsd loopback", layers.LinkTypeNull, append([]byte{2, 0, 0, 0}, frame(t, nil, false, payload)...), false},
		{"linux sll2", layers.LinkTypeLinuxSLL2, sll2(false), false},
		{"linux sll2 ipv6", layers.LinkTypeLinuxSLL2, sll2(true), true},
		{"linux sll", layers.LinkTypeLinuxSLL, append([]byte{0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, frame(t, nil, false, payload)...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDecoder(tt.lt)
			if err != nil {
				t.Fatal(err)
			}
			var seg analyze.Segment
			at := time.Unix(1700000000, 123456789)
			if !d.Decode(tt.data, gopacket.CaptureInfo{Timestamp: at}, &seg) {
				t.Fatalf("not decoded: %+v", d.Stats)
			}
			src := netip.MustParseAddrPort("198.18.0.1:50000")
			if tt.v6 {
				src = netip.MustParseAddrPort("[2001:db8::1]:50000")
			}
			if seg.Src != src || seg.Dst.Port() != 22 || seg.Seq != 1000 || seg.Ack != 2000 || seg.PayloadLen != 52 ||
				len(seg.Payload) != 52 || seg.Window != 501 || seg.Flags != analyze.FlagACK|analyze.FlagPSH || !seg.At.Equal(at) {
				t.Errorf("decoded %+v", seg)
			}
		})
	}
}

// TestDecodeTruncated: a snaplen cut inside the TCP options still yields the
// segment, with the true payload length from the IP header.
func TestDecodeTruncated(t *testing.T) {
	full := frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, false, make([]byte, 1200))
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	var seg analyze.Segment
	for _, snap := range []int{54, 64, 66, 96} {
		if !d.Decode(full[:snap], gopacket.CaptureInfo{}, &seg) {
			t.Fatalf("snaplen %d: not decoded", snap)
		}
		if seg.PayloadLen != 1200 || seg.Seq != 1000 {
			t.Errorf("snaplen %d: payload %d seq %d", snap, seg.PayloadLen, seg.Seq)
		}
	}
	if d.Decode(full[:40], gopacket.CaptureInfo{}, &seg) {
		t.Error("a frame cut inside the TCP header must not decode")
	}
}

func TestUnsupportedLinkType(t *testing.T) {
	_, err := NewDecoder(layers.LinkType(147))
	if !errors.Is(err, ErrUnsupportedLinkType) {
		t.Fatalf("err %v", err)
	}
}

// TestDecodeAllocs pins the decoder to zero allocations per packet.
func TestDecodeAllocs(t *testing.T) {
	data := frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, false, make([]byte, 52))
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	var seg analyze.Segment
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0)}
	if n := testing.AllocsPerRun(1000, func() { d.Decode(data, ci, &seg) }); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

// FuzzDecode: no bytes make the decoder panic, under any link type.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(1), frame(f, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, false, []byte("SSH-2.0-x\r\n")))
	f.Add(uint16(101), frame(f, nil, true, nil))
	f.Add(uint16(276), make([]byte, 21))
	f.Add(uint16(0), []byte{2, 0, 0, 0, 0x45})
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		for _, l := range []layers.LinkType{layers.LinkType(lt), layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL2} {
			d, err := NewDecoder(l)
			if err != nil {
				continue
			}
			var seg analyze.Segment
			ok := d.Decode(data, gopacket.CaptureInfo{}, &seg)
			if ok && len(seg.Payload) > seg.PayloadLen {
				t.Fatalf("captured payload %d > declared %d", len(seg.Payload), seg.PayloadLen)
			}
			// the Flow taken from the packet's bytes is the one Shards
			// would work out from the endpoints
			if noFlow := seg; ok {
				noFlow.Flow = 0
				if s := analyze.NewShards(analyze.Config{}, 7); s.Of(&seg) != s.Of(&noFlow) {
					t.Fatalf("Flow %#x of %v-%v is not its endpoints'", seg.Flow, seg.Src, seg.Dst)
				}
			}
			// the hand-written fast path decides exactly as gopacket does
			slow, _ := NewDecoder(l)
			slow.slowOnly = true
			var want analyze.Segment
			if wantOK := slow.Decode(data, gopacket.CaptureInfo{}, &want); wantOK != ok || d.Stats != slow.Stats ||
				ok && (seg.Src != want.Src || seg.Dst != want.Dst || seg.Seq != want.Seq || seg.Ack != want.Ack || seg.Flags != want.Flags ||
					seg.Window != want.Window || seg.Flow != want.Flow || seg.PayloadLen != want.PayloadLen || !bytes.Equal(seg.Payload, want.Payload)) {
				t.Fatalf("link type %d: fast path %v %+v %+v, gopacket %v %+v %+v", l, ok, seg, d.Stats, wantOK, want, slow.Stats)
			}
		}
	})
}

// pcapBytes writes frames into an in-memory pcap.
func pcapBytes(t testing.TB, lt layers.LinkType, frames ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// FuzzReadFile: no file contents make the reader panic or loop; it always
// ends with EOF or an error.
func FuzzReadFile(f *testing.F) {
	good := pcapBytes(f, layers.LinkTypeEthernet, frame(f, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, false, []byte("abc")))
	f.Add(good)
	f.Add(good[:30])
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a})
	for _, seed := range hostileSeeds(f) {
		f.Add(seed)
	}
	// Readers under a memory ceiling: no packet longer than MaxPacket, and
	// no input costs more than 16 MiB of allocation, whatever it declares
	// (a declared 1 GiB record once cost 4.2 GB).
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(allocs)
		return allocs[0].Value.Uint64()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsReadPacket(t, "fuzz input", data)
		before := allocated()
		defer func() {
			if grew := allocated() - before; grew > 16<<20 {
				t.Fatalf("reading %d bytes allocated %d MiB", len(data), grew>>20)
			}
		}()
		file, err := OpenFile("-", bytes.NewReader(data))
		if err != nil {
			return
		}
		defer file.Close()
		for i := 0; i < 1<<16; i++ {
			pkt, _, err := file.ReadPacket()
			if err != nil {
				return
			}
			if len(pkt) > MaxPacket {
				t.Fatalf("a packet of %d bytes, over MaxPacket", len(pkt))
			}
		}
	})
}
