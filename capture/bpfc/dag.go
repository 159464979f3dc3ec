package bpfc

import (
	"errors"
	"slices"

	"golang.org/x/net/bpf"
)

// The expression becomes a decision graph: each node a test with a true
// and a false successor, shared where equal (hash-consed). Two
// simplifications give the graph libpcap's optimizer reaches in practice,
// which matters because a load past the end of a truncated frame rejects
// it: a test whose both successors are the same is dropped (with its
// load), and a test already decided on the way to it (the same test, or
// an equality on the same load that held for another value) is skipped.
// Neither adds a load, and the second never removes one that could fail.

const (
	reject int32 = 0
	accept int32 = 1
)

type node struct {
	t      test
	hi, lo int32
}

type graph struct {
	nodes []node
	index map[node]int32
	tests map[test]int32 // dense ids for facts
	memo  map[string]int32
	steps int
	err   error
}

var errComplex = errors.New("filter expression too complex to compile")

func newGraph() *graph {
	return &graph{nodes: make([]node, 2), index: map[node]int32{}, tests: map[test]int32{}, memo: map[string]int32{}}
}

// mk returns the node for t, hi, lo.
func (g *graph) mk(t test, hi, lo int32) int32 {
	if hi == lo {
		return hi
	}
	n := node{t, hi, lo}
	if id, ok := g.index[n]; ok {
		return id
	}
	if len(g.nodes) >= maxNodes {
		g.err = errComplex
		return reject
	}
	g.nodes = append(g.nodes, n)
	g.index[n] = int32(len(g.nodes) - 1)
	return int32(len(g.nodes) - 1)
}

// compile builds the graph of e with continuations: T where e holds, F
// where it does not.
func (g *graph) compile(e *bexpr, T, F int32) int32 {
	if g.err != nil {
		return reject
	}
	switch e.op {
	case bTrue:
		return T
	case bFalse:
		return F
	case bAtom:
		return g.mk(e.t, T, F)
	case bAnd:
		return g.compile(e.a, g.compile(e.b, T, F), F)
	case bOr:
		return g.compile(e.a, T, g.compile(e.b, T, F))
	}
	return g.compile(e.a, F, T)
}

// fact is a test's outcome on a path: test id*2 + 1 when true.
type fact = int32

func (g *graph) tid(t test) int32 {
	id, ok := g.tests[t]
	if !ok {
		id = int32(len(g.tests))
		g.tests[t] = id
	}
	return id
}

// decide looks t up in facts: the same test, or an equality on the same
// load known to hold for another constant.
func (g *graph) decide(t test, facts []fact) (val, known bool) {
	id := g.tid(t)
	for _, f := range facts {
		if f>>1 == id {
			return f&1 == 1, true
		}
	}
	if t.op != opEQ {
		return false, false
	}
	for other, oid := range g.tests {
		if other.ld == t.ld && other.op == opEQ && other.k != t.k && slices.Contains(facts, oid<<1|1) {
			return false, true
		}
	}
	return false, false
}

// reduce rebuilds the graph from root, skipping decided tests.
func (g *graph) reduce(root int32) (int32, error) {
	if g.err != nil {
		return reject, g.err
	}
	r := g.walk(root, nil)
	return r, g.err
}

func (g *graph) walk(n int32, facts []fact) int32 {
	if n == accept || n == reject || g.err != nil {
		return n
	}
	if g.steps++; g.steps > maxVisits {
		g.err = errComplex
		return reject
	}
	nd := g.nodes[n]
	if val, ok := g.decide(nd.t, facts); ok {
		if val {
			return g.walk(nd.hi, facts)
		}
		return g.walk(nd.lo, facts)
	}
	key := memoKey(n, facts)
	if r, ok := g.memo[key]; ok {
		return r
	}
	id := g.tid(nd.t)
	hi := g.walk(nd.hi, insertFact(facts, id<<1|1))
	lo := g.walk(nd.lo, insertFact(facts, id<<1))
	r := g.mk(nd.t, hi, lo)
	g.memo[key] = r
	return r
}

func insertFact(facts []fact, f fact) []fact {
	i, _ := slices.BinarySearch(facts, f)
	return slices.Insert(slices.Clip(facts), i, f)
}

func memoKey(n int32, facts []fact) string {
	b := make([]byte, 0, 4+4*len(facts))
	b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	for _, f := range facts {
		b = append(b, byte(f), byte(f>>8), byte(f>>16), byte(f>>24))
	}
	return string(b)
}

// assemble lays the graph out as a program, building it backwards so that
// every successor is placed (jumps only go forward). A conditional jump
// reaches at most 255 instructions; further targets go through a ja.
func (g *graph) assemble(root int32, snaplen uint32) ([]bpf.Instruction, error) {
	var order []int32 // post-order: successors before predecessors
	seen := map[int32]bool{accept: true, reject: true}
	var visit func(n int32)
	visit = func(n int32) {
		if seen[n] {
			return
		}
		seen[n] = true
		visit(g.nodes[n].lo)
		visit(g.nodes[n].hi)
		order = append(order, n)
	}
	visit(root)

	rev := []bpf.Instruction{bpf.RetConstant{Val: 0}, bpf.RetConstant{Val: snaplen}}
	pos := map[int32]int{reject: 0, accept: 1} // index in rev
	for _, n := range order {
		nd := g.nodes[n]
		hi, lo := pos[nd.hi], pos[nd.lo]
		if len(rev)-hi-1 > 255 {
			rev = append(rev, bpf.Jump{Skip: uint32(len(rev) - hi - 1)})
			hi = len(rev) - 1
		}
		if len(rev)-lo-1 > 255 {
			rev = append(rev, bpf.Jump{Skip: uint32(len(rev) - lo - 1)})
			lo = len(rev) - 1
		}
		j := bpf.JumpIf{Val: nd.t.k, SkipTrue: uint8(len(rev) - hi - 1), SkipFalse: uint8(len(rev) - lo - 1)}
		j.Cond = [...]bpf.JumpTest{opEQ: bpf.JumpEqual, opGT: bpf.JumpGreaterThan, opGE: bpf.JumpGreaterOrEqual, opSET: bpf.JumpBitsSet}[nd.t.op]
		rev = append(rev, j)
		ld := nd.t.ld
		if ld.mask != 0xffffffff {
			rev = append(rev, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: ld.mask})
		}
		if ld.ind {
			rev = append(rev, bpf.LoadIndirect{Off: ld.off, Size: int(ld.size)}, bpf.LoadMemShift{Off: ld.xoff})
		} else {
			rev = append(rev, bpf.LoadAbsolute{Off: ld.off, Size: int(ld.size)})
		}
		pos[n] = len(rev) - 1
		if len(rev) > MaxInsns {
			return nil, errors.New("filter expression compiles to more than 4096 instructions")
		}
	}
	slices.Reverse(rev)
	return rev, nil
}
