package bpfc

import (
	"errors"
	"slices"

	"golang.org/x/net/bpf"
)

// The optimized decision graph, hash-consed (libpcap's intern_blocks):
// each node a test with a true and a false successor.

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
}

func newGraph() *graph {
	return &graph{nodes: make([]node, 2), index: map[node]int32{}}
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
	g.nodes = append(g.nodes, n)
	g.index[n] = int32(len(g.nodes) - 1)
	return int32(len(g.nodes) - 1)
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
