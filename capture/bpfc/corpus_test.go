package bpfc_test

//lint:file-ignore U1000 the corpus serves the tests behind the libpcap build tag (libpcap_test.go, random_test.go)

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/sshalive/sshalive/capture"
)

// The packet corpus the differential test runs both compilers' programs
// over: the IP packets of the repository's captures and synthesized ones
// re-encapsulated in every link type, VLAN-tagged and ARP frames where the
// link type carries them, and truncations.

// netPkt is a network-layer packet and its ethertype.
type netPkt struct {
	et uint16
	b  []byte
}

const (
	etIP   = 0x0800
	etIPv6 = 0x86dd
	etARP  = 0x0806
	etRARP = 0x8035
)

// linkTypes are the link types the compiler supports, with libpcap's DLT
// for each (pcap_open_dead wants DLT_RAW, 12, for LINKTYPE_RAW, 101).
var linkTypes = []struct {
	lt  layers.LinkType
	dlt layers.LinkType
}{
	{layers.LinkTypeEthernet, layers.LinkTypeEthernet},
	{layers.LinkTypeRaw, 12},
	{layers.LinkTypeIPv4, layers.LinkTypeIPv4},
	{layers.LinkTypeIPv6, layers.LinkTypeIPv6},
	{layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL},
	{layers.LinkType(276), layers.LinkType(276)},
	{layers.LinkTypeNull, layers.LinkTypeNull},
	{layers.LinkTypeLoop, layers.LinkTypeLoop},
}

func a4(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }
func a16(s string) []byte {
	a := netip.MustParseAddr(s).As16()
	return a[:]
}

// l4 is a transport header: TCP (20 bytes), UDP (8), SCTP (12) or ICMP (8).
func l4(proto byte, sport, dport uint16) []byte {
	n := map[byte]int{6: 20, 17: 8, 132: 12, 1: 8, 58: 8}[proto]
	b := make([]byte, n)
	if proto == 1 || proto == 58 {
		b[0] = 8
		return b
	}
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	if proto == 6 {
		b[12] = 5 << 4
		b[13] = 0x10
	}
	return b
}

// ip4 builds an IPv4 header with ihl 32-bit words (options filled with
// bytes that read as port 22, to catch a fixed transport offset) and the
// fragment field frag.
func ip4(src, dst string, proto byte, ihl int, frag uint16, payload []byte) []byte {
	b := make([]byte, 4*ihl, 4*ihl+len(payload))
	b[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(b[2:], uint16(4*ihl+len(payload)))
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = 64
	b[9] = proto
	copy(b[12:], a4(src))
	copy(b[16:], a4(dst))
	for i := 20; i < len(b); i += 2 {
		b[i], b[i+1] = 0, 22
	}
	return append(b, payload...)
}

// ip6 builds an IPv6 header with next header nh.
func ip6(src, dst string, nh byte, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = nh
	b[7] = 64
	copy(b[8:], a16(src))
	copy(b[24:], a16(dst))
	return append(b, payload...)
}

// arp is an ARP or RARP payload for IPv4 addresses.
func arp(op uint16, spa, tpa string) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b, 1)
	binary.BigEndian.PutUint16(b[2:], etIP)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], op)
	copy(b[14:], a4(spa))
	copy(b[24:], a4(tpa))
	return b
}

var (
	pairs4 = [][2]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2", "10.0.0.1"}, {"192.168.1.5", "10.0.0.1"}, {"192.169.0.1", "172.16.5.4"}, {"10.0.0.3", "10.0.0.1"}, {"10.0.0.1", "10.0.0.1"}}
	pairs6 = [][2]string{{"fe80::1", "fe80::2"}, {"fe80::2", "fe80::1"}, {"2001:db8::1", "fe80::1"}, {"2001:db9::5", "::1"}, {"::ffff:10.0.0.1", "fe80::1"}, {"fe80::1", "fe80::1"}}
	ports  = [][2]uint16{{22, 50000}, {50000, 22}, {2222, 50001}, {50001, 2222}, {80, 22}, {2199, 2300}, {2200, 1}, {1, 2299}, {2300, 2199}, {22, 22}, {1024, 80}, {65535, 1024}, {0, 0}}
)

// synthesized are IPv4 and IPv6 packets: TCP, UDP, SCTP and ICMP between
// hosts on either side, ports on either side and around range edges, IPv4
// options and fragments, IPv6 fragment and hop-by-hop headers.
func synthesized() []netPkt {
	var out []netPkt
	for _, pr := range []byte{6, 17, 132} {
		for _, a := range pairs4 {
			for _, p := range ports {
				out = append(out, netPkt{etIP, ip4(a[0], a[1], pr, 5, 0, l4(pr, p[0], p[1]))})
			}
		}
		for _, a := range pairs6 {
			for _, p := range ports {
				out = append(out, netPkt{etIPv6, ip6(a[0], a[1], pr, l4(pr, p[0], p[1]))})
			}
		}
	}
	for _, a := range pairs4 {
		out = append(out, netPkt{etIP, ip4(a[0], a[1], 1, 5, 0, l4(1, 0, 0))})
	}
	for _, a := range pairs6 {
		out = append(out, netPkt{etIPv6, ip6(a[0], a[1], 58, l4(58, 0, 0))})
	}
	for _, ihl := range []int{6, 7, 15} {
		for _, p := range ports[:6] {
			out = append(out, netPkt{etIP, ip4("10.0.0.1", "10.0.0.2", 6, ihl, 0, l4(6, p[0], p[1]))})
		}
	}
	// Fragments: first (MF, offset 0) and later ones (offset 1, 185).
	for _, frag := range []uint16{0x2000, 0x2001, 0x00b9, 0x4000} {
		out = append(out, netPkt{etIP, ip4("10.0.0.1", "10.0.0.2", 6, 5, frag, l4(6, 22, 2222))})
	}
	fh := func(nh byte) []byte { return []byte{nh, 0, 0, 1, 0, 0, 0, 7} }
	out = append(out,
		netPkt{etIPv6, ip6("fe80::1", "fe80::2", 44, append(fh(6), l4(6, 22, 50000)...))},
		netPkt{etIPv6, ip6("fe80::1", "fe80::2", 44, append(fh(17), l4(17, 22, 50000)...))},
		netPkt{etIPv6, ip6("fe80::1", "fe80::2", 0, append(fh(6), l4(6, 22, 50000)...))},
	)
	return out
}

// fromCaptures reads the IP packets of every capture in testdata/pcaps
// with capture's own reader (the first perFile of each).
func fromCaptures(t testing.TB, perFile int) []netPkt {
	files, err := filepath.Glob("../../testdata/pcaps/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in testdata/pcaps: %v", err)
	}
	var out []netPkt
	for _, name := range files {
		f, err := capture.OpenFile(name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for n := 0; n < perFile; n++ {
			data, _, err := f.ReadPacket()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p, ok := strip(f.LinkType(), data); ok {
				out = append(out, p)
			}
		}
		f.Close()
	}
	return out
}

// strip removes the link-layer header (and VLAN tags) from a frame.
func strip(lt layers.LinkType, b []byte) (netPkt, bool) {
	var et uint16
	switch lt {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return netPkt{}, false
		}
		et, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for (et == 0x8100 || et == 0x88a8) && len(b) >= 4 {
			et, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return netPkt{}, false
		}
		et, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case 276:
		if len(b) < 20 {
			return netPkt{}, false
		}
		et, b = binary.BigEndian.Uint16(b), b[20:]
	default:
		return netPkt{}, false
	}
	if et != etIP && et != etIPv6 {
		return netPkt{}, false
	}
	return netPkt{et, append([]byte(nil), b...)}, true
}

// frame encapsulates p for link type lt; ok is false where lt cannot
// carry it.
func frame(lt layers.LinkType, p netPkt) ([]byte, bool) {
	var hdr []byte
	ip := p.et == etIP || p.et == etIPv6
	switch lt {
	case layers.LinkTypeEthernet:
		hdr = []byte{0, 0, 0x5e, 0, 0x53, 1, 0, 0, 0x5e, 0, 0x53, 2, byte(p.et >> 8), byte(p.et)}
	case layers.LinkTypeLinuxSLL:
		hdr = []byte{0, 0, 0, 1, 0, 6, 0, 0, 0x5e, 0, 0x53, 2, 0, 0, byte(p.et >> 8), byte(p.et)}
	case 276:
		hdr = []byte{byte(p.et >> 8), byte(p.et), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0, 0x5e, 0, 0x53, 2, 0, 0}
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if !ip {
			return nil, false
		}
		af := uint32(2)
		if p.et == etIPv6 {
			af = 10
		}
		hdr = binary.BigEndian.AppendUint32(nil, af)
		if lt == layers.LinkTypeNull {
			hdr = binary.NativeEndian.AppendUint32(nil, af)
		}
	default: // raw IP
		if !ip {
			return nil, false
		}
	}
	return append(hdr, p.b...), true
}

// vlanFrame is an Ethernet frame of p behind the given tags (TPID, ID).
func vlanFrame(p netPkt, tags ...[2]uint16) []byte {
	b := []byte{0, 0, 0x5e, 0, 0x53, 1, 0, 0, 0x5e, 0, 0x53, 2}
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t[0])
		b = binary.BigEndian.AppendUint16(b, t[1])
	}
	b = binary.BigEndian.AppendUint16(b, p.et)
	return append(b, p.b...)
}

// corpus is every frame for link type lt: real and synthesized packets,
// ARP/RARP and odd link headers, VLAN-tagged frames (Ethernet) and
// truncations of some of each (every prefix), which come last, from
// index whole on.
func corpus(lt layers.LinkType, real, synth []netPkt) (frames [][]byte, whole int) {
	var out [][]byte
	add := func(b []byte, ok bool) {
		if ok {
			out = append(out, b)
		}
	}
	for _, p := range real {
		add(frame(lt, p))
	}
	for _, p := range synth {
		add(frame(lt, p))
	}
	for _, a := range pairs4 {
		add(frame(lt, netPkt{etARP, arp(1, a[0], a[1])}))
		add(frame(lt, netPkt{etRARP, arp(3, a[0], a[1])}))
	}
	// An unknown ethertype, address family or IP version.
	add(frame(lt, netPkt{0x88cc, synth[0].b}))
	switch lt {
	case layers.LinkTypeNull:
		for _, af := range []uint32{24, 28, 30} {
			out = append(out, append(binary.NativeEndian.AppendUint32(nil, af), synth[len(synth)-1].b...))
		}
	case layers.LinkTypeLoop:
		out = append(out, append(binary.BigEndian.AppendUint32(nil, 24), synth[len(synth)-1].b...))
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		bad := append([]byte(nil), synth[0].b...)
		bad[0] = 0x55
		out = append(out, bad)
	}
	if lt == layers.LinkTypeEthernet {
		out = append(out, vlanFrames(synth)...)
	}
	// Truncations: every prefix of a few frames, through their ports.
	var full [][]byte
	for _, i := range truncated(synth) {
		if b, ok := frame(lt, synth[i]); ok {
			full = append(full, b)
		}
	}
	if lt == layers.LinkTypeEthernet {
		full = append(full, vlanFrame(synth[0], [2]uint16{0x8100, 100}), vlanFrame(synth[0], [2]uint16{0x88a8, 100}, [2]uint16{0x8100, 200}))
	}
	whole = len(out)
	for _, b := range full {
		for n := 0; n < len(b); n++ {
			out = append(out, b[:n])
		}
	}
	return out, whole
}

// truncated picks the synthesized packets whose prefixes are in the corpus.
func truncated(synth []netPkt) []int {
	var idx []int
	for i, p := range synth {
		if len(idx) < 12 && i%41 == 0 || len(p.b) > 60 && p.b[0] == 0x46 && len(idx) < 14 {
			idx = append(idx, i)
		}
	}
	return idx
}

// vlanFrames tags some synthesized packets: 802.1Q with IDs 100 and 200,
// QinQ (0x88a8 then 0x8100), 0x9100, and double 0x8100.
func vlanFrames(synth []netPkt) [][]byte {
	tagSets := [][][2]uint16{
		{{0x8100, 100}}, {{0x8100, 200}}, {{0x88a8, 100}, {0x8100, 200}}, {{0x9100, 100}},
		{{0x8100, 100}, {0x8100, 100}}, {{0x88a8, 200}, {0x8100, 100}}, {{0x8100, 0x2064}},
	}
	var out [][]byte
	for i, p := range synth {
		if i%7 != 0 {
			continue
		}
		for _, tags := range tagSets {
			out = append(out, vlanFrame(p, tags...))
		}
	}
	for _, a := range pairs4[:2] {
		out = append(out, vlanFrame(netPkt{etARP, arp(1, a[0], a[1])}, [2]uint16{0x8100, 100}))
	}
	return out
}

func describe(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%d bytes %x...", len(b), b[:80])
	}
	return fmt.Sprintf("%d bytes %x", len(b), b)
}
