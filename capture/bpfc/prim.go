package bpfc

import "fmt"

// load reads size bytes at off (plus X = 4*([xoff]&0xf) when ind), then
// masks the value when mask is not all ones.
type load struct {
	size uint8
	ind  bool
	off  uint32
	xoff uint32
	mask uint32
}

// cmpOp is a BPF conditional jump.
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opGT
	opGE
	opSET
)

// test is one comparison: a node of the decision graph. Two tests on the
// same load are what libpcap's optimizer can relate.
type test struct {
	ld load
	op cmpOp
	k  uint32
}

// bop is a boolean operator of the expression tree.
type bop uint8

const (
	bFalse bop = iota
	bTrue
	bAtom
	bAnd
	bOr
	bNot
)

// bexpr is the expression tree, in libpcap's evaluation order: the left
// operand of and/or is tested first.
type bexpr struct {
	op   bop
	a, b *bexpr
	t    test
}

var (
	exprTrue  = &bexpr{op: bTrue}
	exprFalse = &bexpr{op: bFalse}
)

func and(a, b *bexpr) *bexpr { return &bexpr{op: bAnd, a: a, b: b} }
func or(a, b *bexpr) *bexpr  { return &bexpr{op: bOr, a: a, b: b} }
func not(a *bexpr) *bexpr    { return &bexpr{op: bNot, a: a} }

// cmp compares size bytes at off with k (after mask); a zero mask makes
// the comparison constant, which libpcap's optimizer folds (its load goes).
func cmp(size uint8, off, mask, k uint32) *bexpr {
	if mask == 0 {
		if k == 0 {
			return exprTrue
		}
		return exprFalse
	}
	return &bexpr{op: bAtom, t: test{ld: load{size: size, off: off, mask: mask}, op: opEQ, k: k}}
}

func eq(size uint8, off, k uint32) *bexpr { return cmp(size, off, 0xffffffff, k) }

// Ethertypes, and the address families libpcap uses for DLT_NULL/DLT_LOOP.
const (
	etIP    = 0x0800
	etIPv6  = 0x86dd
	etARP   = 0x0806
	etRARP  = 0x8035
	afINET  = 2
	afINET6 = 10
)

// linkProto is libpcap's gen_linktype for an ethertype.
func (p *parser) linkProto(et uint16) *bexpr {
	l := p.link
	switch l.kind {
	case kEthertype:
		return eq(2, l.typeOff+p.shift, uint32(et))
	case kNull, kLoop:
		af := map[uint16]uint32{etIP: afINET, etIPv6: afINET6}[et]
		if af == 0 {
			return exprFalse
		}
		if l.kind == kNull {
			af = nullFamily(af)
		}
		return eq(4, 0, af)
	case kRaw:
		switch et {
		case etIP:
			return cmp(1, 0, 0xf0, 0x40)
		case etIPv6:
			return cmp(1, 0, 0xf0, 0x60)
		}
	case kIPv4:
		if et == etIP {
			return exprTrue
		}
	case kIPv6:
		if et == etIPv6 {
			return exprTrue
		}
	}
	return exprFalse
}

// pl is the offset of the network header, after the VLAN tags so far.
func (p *parser) pl() uint32 { return p.link.pl + p.shift }

// protoAbbrev is "ip", "ip6" or "tcp" alone (gen_proto_abbrev). For IPv6,
// tcp also matches a fragment header followed by TCP.
func (p *parser) protoAbbrev(proto uint8) *bexpr {
	switch proto {
	case pIP:
		return p.linkProto(etIP)
	case pIP6:
		return p.linkProto(etIPv6)
	}
	pl := p.pl()
	v4 := and(p.linkProto(etIP), eq(1, pl+9, 6))
	v6 := and(p.linkProto(etIPv6), or(eq(1, pl+6, 6), and(eq(1, pl+6, 44), eq(1, pl+40, 6))))
	return or(v4, v6)
}

// directed combines a source and a destination test as dir asks.
func directed(dir uint8, src, dst func() *bexpr) *bexpr {
	switch dir {
	case dSrc:
		return src()
	case dDst:
		return dst()
	case dAnd:
		return and(src(), dst())
	}
	return or(src(), dst())
}

// host4 is gen_host for an IPv4 address and mask: IPv4, and for the
// default protocol ARP and RARP too (which are false off Ethernet-like
// link types).
func (p *parser) host4(q qual, addr, mask uint32) (*bexpr, error) {
	pl := p.pl()
	hostop := func(et uint16, src, dst uint32) *bexpr {
		one := func(off uint32) func() *bexpr {
			return func() *bexpr { return and(p.linkProto(et), cmp(4, off, mask, addr)) }
		}
		return directed(q.dir, one(src), one(dst))
	}
	switch q.proto {
	case pIP:
		return hostop(etIP, pl+12, pl+16), nil
	case pDefault:
		ip := hostop(etIP, pl+12, pl+16)
		arp := hostop(etARP, pl+14, pl+24)
		rarp := hostop(etRARP, pl+14, pl+24)
		return or(or(ip, arp), rarp), nil
	case pIP6:
		return nil, fmt.Errorf("'ip6' modifier applied to ip host")
	}
	return nil, fmt.Errorf("'tcp' modifier applied to host")
}

// host6 is gen_host6: the four words of the address, first to last.
func (p *parser) host6(q qual, addr, mask [16]byte) (*bexpr, error) {
	switch q.proto {
	case pIP:
		return nil, fmt.Errorf("'ip' modifier applied to ip6 host")
	case pTCP:
		return nil, fmt.Errorf("'tcp' modifier applied to host")
	}
	pl := p.pl()
	one := func(off uint32) func() *bexpr {
		return func() *bexpr {
			e := p.linkProto(etIPv6)
			for w := uint32(0); w < 4; w++ {
				e = and(e, cmp(4, off+4*w, be32(mask[4*w:]), be32(addr[4*w:])))
			}
			return e
		}
	}
	return directed(q.dir, one(pl+8), one(pl+24)), nil
}

// Transport protocols that "port" covers.
const (
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	ipprotoSCTP = 132
)

// port is gen_port/gen_portrange and their IPv6 twins: IPv6 first, then
// IPv4; SCTP, TCP, UDP unless a protocol was named; IPv4 skips non-first
// fragments and finds the transport header from the IHL.
func (p *parser) port(q qual, lo, hi uint16) (*bexpr, error) {
	var protos []uint32
	switch q.proto {
	case pDefault:
		protos = []uint32{ipprotoSCTP, ipprotoTCP, ipprotoUDP}
	case pTCP:
		protos = []uint32{ipprotoTCP}
	default:
		return nil, fmt.Errorf("illegal qualifier of 'port'")
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	ranged := q.addr == aPortrange
	atom := func(ld load) func() *bexpr {
		return func() *bexpr {
			if !ranged {
				return &bexpr{op: bAtom, t: test{ld: ld, op: opEQ, k: uint32(lo)}}
			}
			ge := &bexpr{op: bAtom, t: test{ld: ld, op: opGE, k: uint32(lo)}}
			gt := &bexpr{op: bAtom, t: test{ld: ld, op: opGT, k: uint32(hi)}}
			return and(ge, not(gt))
		}
	}
	pl := p.pl()
	each := func(gen func(proto uint32) *bexpr) *bexpr {
		e := gen(protos[0])
		for _, pr := range protos[1:] {
			e = or(e, gen(pr))
		}
		return e
	}
	v6 := and(p.linkProto(etIPv6), each(func(proto uint32) *bexpr {
		src := load{size: 2, off: pl + 40, mask: 0xffffffff}
		dst := load{size: 2, off: pl + 42, mask: 0xffffffff}
		return and(eq(1, pl+6, proto), directed(q.dir, atom(src), atom(dst)))
	}))
	v4 := and(p.linkProto(etIP), each(func(proto uint32) *bexpr {
		frag := &bexpr{op: bAtom, t: test{ld: load{size: 2, off: pl + 6, mask: 0xffffffff}, op: opSET, k: 0x1fff}}
		src := load{size: 2, ind: true, off: pl, xoff: pl, mask: 0xffffffff}
		dst := load{size: 2, ind: true, off: pl + 2, xoff: pl, mask: 0xffffffff}
		return and(and(eq(1, pl+9, proto), not(frag)), directed(q.dir, atom(src), atom(dst)))
	}))
	return or(v6, v4), nil
}

// vlan is gen_vlan without BPF extensions (what libpcap compiles for a
// file or pcap_open_dead): an 802.1Q, 802.1ad or 0x9100 tag, optionally
// with the ID; every later offset moves 4 bytes.
func (p *parser) vlan(id *uint32) *bexpr {
	off := p.link.typeOff + p.shift
	e := or(or(eq(2, off, 0x8100), eq(2, off, 0x88a8)), eq(2, off, 0x9100))
	if id != nil {
		e = and(e, cmp(2, p.pl(), 0x0fff, *id))
	}
	p.shift += 4
	return e
}
