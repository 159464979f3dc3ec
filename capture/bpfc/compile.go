package bpfc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// ErrUnsupported is wrapped by the errors for syntax outside the subset;
// the message names the offending word.
var ErrUnsupported = errors.New("outside the expressions sshalive compiles itself")

// Limits on hostile input: compile time and memory stay bounded.
const (
	MaxExprLen  = 4096    // bytes of expression
	MaxDepth    = 64      // nested parentheses and negations
	MaxInsns    = 4096    // BPF_MAXINSNS, the kernel's limit
	maxNodes    = 1 << 14 // tests in the graph before optimization
	maxWork     = 1 << 23 // facts held while optimizing (32 MiB)
	maxSteps    = 1 << 28 // dominator walks while optimizing (about a second)
	defaultSnap = 262144
)

// unsupported wraps ErrUnsupported, naming the word.
func unsupported(word string) error {
	return fmt.Errorf("%q is %w", word, ErrUnsupported)
}

// linkKind is how a link type says which network protocol follows.
type linkKind uint8

const (
	kEthertype linkKind = iota // 16-bit ethertype at typeOff (Ethernet, SLL, SLL2)
	kNull                      // 4-byte address family, host byte order
	kLoop                      // 4-byte address family, network byte order
	kRaw                       // IP version in the first nibble
	kIPv4                      // IPv4 only
	kIPv6                      // IPv6 only
)

// link describes a link type's headers, as libpcap's gencode.c does.
type link struct {
	name    string
	kind    linkKind
	typeOff uint32 // offset of the ethertype (kEthertype)
	pl      uint32 // offset of the network header
	vlan    bool   // whether "vlan" is meaningful
}

// linkTypes are those the compiler knows. LINKTYPE_RAW (101) is what pcap
// files store for DLT_RAW (12); both are accepted.
func linkFor(lt layers.LinkType) (link, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		return link{name: "Ethernet", kind: kEthertype, typeOff: 12, pl: 14, vlan: true}, nil
	case layers.LinkTypeLinuxSLL:
		return link{name: "Linux cooked v1", kind: kEthertype, typeOff: 14, pl: 16}, nil
	case layers.LinkType(276):
		return link{name: "Linux cooked v2", kind: kEthertype, typeOff: 0, pl: 20}, nil
	case layers.LinkTypeNull:
		return link{name: "BSD loopback", kind: kNull, pl: 4}, nil
	case layers.LinkTypeLoop:
		return link{name: "OpenBSD loopback", kind: kLoop, pl: 4}, nil
	case layers.LinkTypeRaw, 12:
		return link{name: "Raw IP", kind: kRaw}, nil
	case layers.LinkTypeIPv4:
		return link{name: "Raw IPv4", kind: kIPv4}, nil
	case layers.LinkTypeIPv6:
		return link{name: "Raw IPv6", kind: kIPv6}, nil
	}
	return link{}, fmt.Errorf("link type %d (%v) is %w", int(lt), lt, ErrUnsupported)
}

// nullFamily is an address family as libpcap compares it for DLT_NULL:
// in the byte order of the host (htonl of the value, loaded big-endian).
// The values are Linux's, as libpcap on Linux uses them.
func nullFamily(af uint32) uint32 {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], af)
	return binary.BigEndian.Uint32(b[:])
}

// Compile compiles a tcpdump filter expression for frames of link type lt
// into a classic BPF program that accepts a frame by returning snaplen
// (as libpcap does) and rejects with 0.
func Compile(expr string, lt layers.LinkType, snaplen int) ([]bpf.Instruction, error) {
	if len(expr) > MaxExprLen {
		return nil, fmt.Errorf("filter expression is %d bytes, over the limit of %d", len(expr), MaxExprLen)
	}
	if snaplen <= 0 || snaplen > 1<<30 {
		return nil, fmt.Errorf("snaplen %d out of range", snaplen)
	}
	if strings.TrimSpace(expr) == "" {
		return []bpf.Instruction{bpf.RetConstant{Val: uint32(snaplen)}}, nil
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	l, err := linkFor(lt)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, link: l}
	e, err := p.prog()
	if err != nil {
		return nil, err
	}
	m, err := build(e)
	if err != nil {
		return nil, err
	}
	if err := m.optimize(); err != nil {
		return nil, err
	}
	g := newGraph()
	root, err := m.intern(g)
	if err != nil {
		return nil, err
	}
	if root == reject {
		return nil, errors.New("expression rejects all packets")
	}
	return g.assemble(root, uint32(snaplen))
}
