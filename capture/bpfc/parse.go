package bpfc

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Qualifiers, as libpcap's grammar keeps them: a bare id after and/or
// ("port 22 or 2222") inherits the last primitive's qualifiers.
type qual struct{ proto, dir, addr uint8 }

const undef = 0 // qerr: the qualifiers after "tcp", "vlan" or at the start

const (
	pDefault = iota + 1
	pIP
	pIP6
	pTCP
)

const (
	dDefault = iota + 1
	dSrc
	dDst
	dOr
	dAnd
)

const (
	aDefault = iota + 1
	aHost
	aNet
	aPort
	aPortrange
)

// parser is a recursive-descent rendering of libpcap's grammar.y for the
// subset. It generates code as it parses, as libpcap does, because "vlan"
// shifts the offsets of everything parsed after it.
type parser struct {
	toks  []token
	i     int
	link  link
	shift uint32 // bytes of VLAN tags assumed so far
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("syntax error: "+format, args...)
}

// unexpected is the error for token t where it cannot be: an arithmetic
// operator is unsupported rather than malformed.
func (p *parser) unexpected(t token) error {
	if t.kind == tOp {
		return unsupported(t.text)
	}
	return p.errorf("unexpected %v at offset %d", t, t.pos)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return fmt.Errorf("filter expression nests deeper than %d", MaxDepth)
	}
	return nil
}

// prog: expr EOF.
func (p *parser) prog() (*bexpr, error) {
	e, _, err := p.expr(qual{})
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	return e, nil
}

// expr: term { (and|or) (term|id) }, and and or of equal precedence,
// associating left.
func (p *parser) expr(q qual) (*bexpr, qual, error) {
	e, q, err := p.term(q, false)
	if err != nil {
		return nil, q, err
	}
	for {
		op := p.peek()
		if op.kind != tAnd && op.kind != tOr {
			return e, q, nil
		}
		p.next()
		if p.peek().kind == tEOF {
			return nil, q, p.errorf("missing operand after %v", op)
		}
		var r *bexpr
		if r, q, err = p.term(q, true); err != nil {
			return nil, q, err
		}
		if op.kind == tAnd {
			e = and(e, r)
		} else {
			e = or(e, r)
		}
	}
}

// isID reports whether t starts an id: a number, address or name.
func isID(t token) bool { return t.kind == tWord && !isKeyword(t.text) }

// term: not term | rterm; after and/or (idOK) also a bare id.
func (p *parser) term(q qual, idOK bool) (*bexpr, qual, error) {
	if err := p.enter(); err != nil {
		return nil, q, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	switch {
	case t.kind == tNot:
		p.next()
		e, q2, err := p.term(q, idOK)
		if err != nil {
			return nil, q2, err
		}
		return not(e), q2, nil
	case idOK && isID(t):
		return p.id(q)
	case idOK && t.kind == tLParen && p.parenID():
		return p.id(q)
	}
	return p.rterm(q)
}

// parenID reports whether the "(" at the current token opens a list of
// ids ("port (22 or 80)") rather than an expression.
func (p *parser) parenID() bool {
	n := 1
	for p.peekAt(n).kind == tNot || p.peekAt(n).kind == tLParen {
		n++
	}
	return isID(p.peekAt(n))
}

// rterm: head id | ( expr ) | tcp | ip | ip6 | vlan [num].
func (p *parser) rterm(q qual) (*bexpr, qual, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		e, _, err := p.expr(q)
		if err != nil {
			return nil, q, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, q, p.errorf("unbalanced parentheses: expected \")\" at %v", c)
		}
		return e, q, nil
	case tWord:
	case tEOF:
		return nil, q, p.errorf("missing operand at end of expression")
	default:
		return nil, q, p.unexpected(t)
	}
	proto := uint8(pDefault)
	switch t.text {
	case "ip", "ip6", "tcp":
		proto = map[string]uint8{"ip": pIP, "ip6": pIP6, "tcp": pTCP}[t.text]
		if !p.qualNext() {
			return p.protoAbbrev(proto), qual{}, nil
		}
	case "vlan":
		return p.vlanTerm()
	case "src", "dst", "host", "net", "port", "portrange":
		p.i--
	default:
		if isKeyword(t.text) {
			return nil, q, unsupported(t.text)
		}
		return nil, q, p.errorf("%v is not a primitive (offset %d)", t, t.pos)
	}
	hq, err := p.head(proto)
	if err != nil {
		return nil, q, err
	}
	return p.id(hq)
}

// qualNext reports whether the next word is a direction or address
// qualifier, or one outside the subset, after a protocol name.
func (p *parser) qualNext() bool {
	t := p.peek()
	if t.kind != tWord {
		return false
	}
	switch t.text {
	case "src", "dst", "host", "net", "port", "portrange", "proto", "protochain", "broadcast", "multicast", "gateway":
		return true
	}
	return false
}

// head: [dqual] [aqual], at least one of them.
func (p *parser) head(proto uint8) (qual, error) {
	q := qual{proto: proto, dir: dDefault, addr: aDefault}
	t := p.peek()
	if t.kind == tWord && (t.text == "src" || t.text == "dst") {
		p.next()
		q.dir = dSrc
		if t.text == "dst" {
			q.dir = dDst
		}
		if op := p.peek(); op.kind == tAnd || op.kind == tOr {
			other := p.peekAt(1)
			if other.kind != tWord || (other.text != "src" && other.text != "dst") || other.text == t.text {
				return q, p.errorf("expected %q after %q %v", map[string]string{"src": "dst", "dst": "src"}[t.text], t.text, op)
			}
			p.i += 2
			q.dir = dOr
			if op.kind == tAnd {
				q.dir = dAnd
			}
		}
	}
	t = p.peek()
	if t.kind == tWord {
		switch t.text {
		case "host":
			q.addr = aHost
		case "net":
			q.addr = aNet
		case "port":
			q.addr = aPort
		case "portrange":
			q.addr = aPortrange
		case "proto", "protochain", "broadcast", "multicast", "gateway":
			return q, unsupported(t.text)
		}
		if q.addr != aDefault {
			p.next()
		}
	}
	return q, nil
}

// vlanTerm: vlan [num]. It shifts the offsets of what follows by 4.
func (p *parser) vlanTerm() (*bexpr, qual, error) {
	if !p.link.vlan {
		return nil, qual{}, fmt.Errorf("no VLAN support for %s", p.link.name)
	}
	var id *uint32
	if t := p.peek(); t.kind == tWord && isNumber(t.text) {
		p.next()
		v, err := parseNum(t.text)
		if err != nil {
			return nil, qual{}, err
		}
		if v > 4095 {
			return nil, qual{}, fmt.Errorf("VLAN tag %d greater than maximum 4095", v)
		}
		id = &v
	}
	return p.vlan(id), qual{}, nil
}

// id: number | address [/len | mask address] | name | not id | ( id {and|or id} ).
func (p *parser) id(q qual) (*bexpr, qual, error) {
	if err := p.enter(); err != nil {
		return nil, q, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	switch {
	case t.kind == tNot:
		e, _, err := p.id(q)
		if err != nil {
			return nil, q, err
		}
		return not(e), q, nil
	case t.kind == tLParen:
		return p.pid(q)
	case t.kind == tEOF:
		return nil, q, p.errorf("missing operand at end of expression")
	case !isID(t):
		return nil, q, p.unexpected(t)
	}
	if q.addr == undef {
		return nil, q, p.errorf("%v needs a qualifier (host, net, port) at offset %d", t, t.pos)
	}
	e, err := p.value(q, t)
	return e, q, err
}

// pid: id {and|or id} ")".
func (p *parser) pid(q qual) (*bexpr, qual, error) {
	e, _, err := p.id(q)
	if err != nil {
		return nil, q, err
	}
	for {
		op := p.next()
		switch op.kind {
		case tRParen:
			return e, q, nil
		case tAnd, tOr:
			r, _, err := p.id(q)
			if err != nil {
				return nil, q, err
			}
			if op.kind == tAnd {
				e = and(e, r)
			} else {
				e = or(e, r)
			}
		default:
			return nil, q, p.errorf("unbalanced parentheses: expected \")\" at %v", op)
		}
	}
}

// value generates the primitive for one id under qualifiers q.
func (p *parser) value(q qual, t token) (*bexpr, error) {
	w := t.text
	switch {
	case isNumber(w):
		v, err := parseNum(w)
		if err != nil {
			return nil, err
		}
		switch q.addr {
		case aPort, aPortrange:
			if v > 65535 {
				return nil, fmt.Errorf("illegal port number %d > 65535", v)
			}
			return p.port(q, uint16(v), uint16(v))
		}
		return nil, unsupported(w) // a host or network given as a number
	case strings.Contains(w, ":"):
		return p.addr6(q, w)
	case isDotted(w):
		return p.addr4(q, w)
	case q.addr == aPortrange:
		lo, hi, ok := strings.Cut(w, "-")
		if !ok || !isDecimal(lo) || !isDecimal(hi) {
			return nil, unsupported(w)
		}
		a, err1 := parseNum(lo)
		b, err2 := parseNum(hi)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if a > 65535 || b > 65535 {
			return nil, fmt.Errorf("illegal port number %d > 65535", max(a, b))
		}
		return p.port(q, uint16(a), uint16(b))
	case q.addr == aPort && w == "ssh":
		// /etc/services (netbase) lists ssh for tcp only, so libpcap
		// compiles "port ssh" as "tcp port 22".
		if q.proto == pDefault {
			q.proto = pTCP
		}
		return p.port(q, 22, 22)
	}
	return nil, unsupported(w) // a name: DNS or /etc/services
}

// addr4 generates host or net for an IPv4 address, with /len or mask.
func (p *parser) addr4(q qual, w string) (*bexpr, error) {
	a, err := netip.ParseAddr(w)
	if err != nil || !a.Is4() {
		return nil, unsupported(w) // abbreviated (10.1) or hexadecimal forms
	}
	addr := be32(a.AsSlice())
	mask := uint32(0xffffffff)
	masked := false
	switch t := p.peek(); {
	case t.kind == tSlash:
		p.next()
		n := p.next()
		if n.kind != tWord || !isNumber(n.text) {
			return nil, p.errorf("expected a mask length after \"/\", got %v", n)
		}
		bits, err := parseNum(n.text)
		if err != nil {
			return nil, err
		}
		if bits > 32 {
			return nil, errors.New("mask length must be <= 32")
		}
		mask = uint32(uint64(0xffffffff) << (32 - bits))
		masked = true
		w += "/" + n.text
	case t.kind == tWord && t.text == "mask":
		p.next()
		m := p.next()
		ma, err := netip.ParseAddr(m.text)
		if m.kind != tWord || err != nil || !ma.Is4() {
			return nil, p.errorf("expected an IPv4 netmask after \"mask\", got %v", m)
		}
		mask = be32(ma.AsSlice())
		masked = true
		w += " mask " + m.text
	}
	if masked && q.addr != aNet {
		return nil, errors.New("mask syntax for networks only")
	}
	if addr&^mask != 0 {
		return nil, fmt.Errorf("non-network bits set in %q", w)
	}
	switch q.addr {
	case aPort, aPortrange:
		return nil, fmt.Errorf("illegal qualifier of 'port'")
	}
	return p.host4(q, addr, mask)
}

// addr6 generates host or net for an IPv6 address, with /len.
func (p *parser) addr6(q qual, w string) (*bexpr, error) {
	a, err := netip.ParseAddr(w)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return nil, unsupported(w) // a MAC address, or not an address
	}
	bits := uint32(128)
	if p.peek().kind == tSlash {
		p.next()
		n := p.next()
		if n.kind != tWord || !isNumber(n.text) {
			return nil, p.errorf("expected a mask length after \"/\", got %v", n)
		}
		if bits, err = parseNum(n.text); err != nil {
			return nil, err
		}
		if bits > 128 {
			return nil, errors.New("mask length must be <= 128")
		}
		w += "/" + n.text
	}
	addr := a.As16()
	var mask [16]byte
	for i := range mask {
		switch {
		case bits >= uint32(8*i+8):
			mask[i] = 0xff
		case bits > uint32(8*i):
			mask[i] = byte(0xff << (8*uint32(i) + 8 - bits))
		}
		if addr[i]&^mask[i] != 0 {
			return nil, fmt.Errorf("non-network bits set in %q", w)
		}
	}
	switch q.addr {
	case aPort, aPortrange:
		return nil, fmt.Errorf("illegal qualifier of 'port'")
	case aDefault, aHost:
		if bits != 128 {
			return nil, errors.New("mask syntax for networks only")
		}
	}
	return p.host6(q, addr, mask)
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// isNumber: libpcap's NUM, decimal, 0x hexadecimal or 0 octal.
func isNumber(w string) bool {
	if len(w) > 2 && (w[:2] == "0x" || w[:2] == "0X") {
		for _, c := range w[2:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	return isDecimal(w)
}

func isDecimal(w string) bool {
	if w == "" {
		return false
	}
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isDotted: two to four numbers separated by dots (libpcap's HID).
func isDotted(w string) bool {
	parts := strings.Split(w, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, s := range parts {
		if !isNumber(s) {
			return false
		}
	}
	return true
}

// parseNum parses a NUM as libpcap does: 0x hexadecimal, leading-0 octal,
// else decimal, at most 32 bits.
func parseNum(w string) (uint32, error) {
	base := 10
	digits := w
	switch {
	case len(w) > 2 && (w[:2] == "0x" || w[:2] == "0X"):
		base, digits = 16, w[2:]
	case len(w) > 1 && w[0] == '0':
		base, digits = 8, w[1:]
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("number %s overflows 32 bits", w)
		}
		return 0, fmt.Errorf("number %s contains non-octal digit", w)
	}
	return uint32(v), nil
}
