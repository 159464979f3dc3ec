package bpfc

import (
	"errors"
	"slices"
)

// The expression is compiled, as libpcap's gencode does, into a graph of
// blocks, one test each, which is then optimized as libpcap's optimize.c
// does it. The result must accept the same frames, but also load the same
// fields first: a load past the end of a truncated frame rejects it, so
// which tests the optimizer drops or moves decides what such a frame gets.
// Three of its moves matter and are made here under the same conditions:
//
//   - an edge into a block whose test is decided on every path to the edge
//     (the same test, or an equality on the same value known to hold for
//     another constant) jumps past it (opt_j and fold_edge);
//   - a block whose two exits are the same is skipped, its load with it;
//   - in a chain of tests sharing their true exit (or their false exit),
//     a later test of the value the chain's predecessor tested is moved up
//     next to it (or_pullup and and_pullup).
//
// Identical blocks are merged only at the end (intern_blocks).

var errComplex = errors.New("filter expression too complex to compile")

// mblk is a block; 0 and 1 are reject and accept.
type mblk struct {
	t      test
	hi, lo int
}

type edge struct {
	pred int
	hi   bool
}

// mgraph is the graph being optimized. In-edges, levels, dominators and
// facts are computed at the start of each pass and, as in libpcap, not
// updated while the pass moves edges.
type mgraph struct {
	b      []mblk
	root   int
	in     [][]edge
	idom   []int
	rpo    []int
	post   []int
	levels [][]int
	tests  map[test]int32 // dense ids for facts
	tlist  []test
	work   int // facts held (memory)
	steps  int // dominator walks (time)
}

// build compiles e with continuations, as gen_and and gen_or chain
// blocks: the left operand is tested first.
func build(e *bexpr) (*mgraph, error) {
	m := &mgraph{b: make([]mblk, 2), tests: map[test]int32{}}
	var comp func(e *bexpr, T, F int) int
	comp = func(e *bexpr, T, F int) int {
		switch e.op {
		case bTrue:
			return T
		case bFalse:
			return F
		case bAtom:
			m.b = append(m.b, mblk{e.t, T, F})
			return len(m.b) - 1
		case bAnd:
			return comp(e.a, comp(e.b, T, F), F)
		case bOr:
			return comp(e.a, T, comp(e.b, T, F))
		}
		return comp(e.a, F, T)
	}
	if n := e.count(); n > maxNodes {
		return nil, errComplex
	}
	m.root = comp(e, 1, 0)
	return m, nil
}

// count is the number of tests in e, bounded to avoid overflow.
func (e *bexpr) count() int {
	switch e.op {
	case bAtom:
		return 1
	case bAnd, bOr:
		return min(e.a.count()+e.b.count(), maxNodes+1)
	case bNot:
		return e.a.count()
	}
	return 0
}

// optimize repeats passes until one changes nothing.
func (m *mgraph) optimize() error {
	for pass := 0; pass < 64; pass++ {
		for m.root > 1 && m.b[m.root].hi == m.b[m.root].lo {
			m.root = m.b[m.root].hi
		}
		if m.root <= 1 {
			return nil
		}
		m.analyse()
		facts, err := m.facts()
		if err != nil {
			return err
		}
		changed := m.thread(facts)
		m.analyse()
		for _, level := range m.levels[1:] {
			for _, b := range level {
				changed = m.pull(b, false) || changed
				changed = m.pull(b, true) || changed
			}
			if m.steps > maxSteps {
				return errComplex
			}
		}
		if !changed {
			return nil
		}
	}
	return nil
}

// intern hash-conses the optimized graph into g. A cycle (which no move
// should make) is an error rather than endless recursion.
func (m *mgraph) intern(g *graph) (int32, error) {
	const busy = -1
	out := map[int]int32{0: reject, 1: accept}
	var cycle bool
	var back func(i int) int32
	back = func(i int) int32 {
		if n, ok := out[i]; ok {
			cycle = cycle || n == busy
			return n
		}
		out[i] = busy
		hi, lo := back(m.b[i].hi), back(m.b[i].lo)
		if cycle {
			return reject
		}
		n := g.mk(m.b[i].t, hi, lo)
		out[i] = n
		return n
	}
	root := back(m.root)
	if cycle {
		return reject, errors.New("internal error: optimizer made a loop")
	}
	return root, nil
}

// analyse computes in-edges, levels (leaves 0), post-order and immediate
// dominators of the blocks reachable from the root.
func (m *mgraph) analyse() {
	n := len(m.b)
	m.in = make([][]edge, n)
	level := make([]int, n)
	seen := make([]bool, n)
	m.post = m.post[:0]
	var dfs func(i int)
	dfs = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		if i > 1 {
			dfs(m.b[i].hi)
			dfs(m.b[i].lo)
			level[i] = 1 + max(level[m.b[i].hi], level[m.b[i].lo])
			m.in[m.b[i].hi] = append(m.in[m.b[i].hi], edge{i, true})
			m.in[m.b[i].lo] = append(m.in[m.b[i].lo], edge{i, false})
		}
		m.post = append(m.post, i)
	}
	dfs(m.root)
	m.levels = make([][]int, level[m.root]+1)
	for _, i := range m.post {
		m.levels[level[i]] = append(m.levels[level[i]], i)
	}
	m.rpo = make([]int, n)
	for k, i := range m.post {
		m.rpo[i] = len(m.post) - 1 - k
	}
	m.idom = make([]int, n)
	for i := range m.idom {
		m.idom[i] = -1
	}
	m.idom[m.root] = m.root
	for k := len(m.post) - 1; k >= 0; k-- { // predecessors first
		i := m.post[k]
		if i == m.root {
			continue
		}
		d := -1
		for _, e := range m.in[i] {
			switch {
			case m.idom[e.pred] < 0:
			case d < 0:
				d = e.pred
			default:
				d = m.intersect(d, e.pred)
			}
		}
		m.idom[i] = d
	}
}

func (m *mgraph) intersect(a, b int) int {
	for a != b {
		for m.rpo[a] > m.rpo[b] {
			a = m.idom[a]
		}
		for m.rpo[b] > m.rpo[a] {
			b = m.idom[b]
		}
	}
	return a
}

// dominates reports whether every path from the root to x passes b.
func (m *mgraph) dominates(b, x int) bool {
	if m.idom[x] < 0 {
		return false
	}
	for x != b {
		if x == m.root {
			return false
		}
		x = m.idom[x]
		m.steps++
	}
	return true
}

// fact is a test's outcome: test id*2, +1 when true.
type fact = int32

func (m *mgraph) tid(t test) int32 {
	id, ok := m.tests[t]
	if !ok {
		id = int32(len(m.tlist))
		m.tests[t] = id
		m.tlist = append(m.tlist, t)
	}
	return id
}

// facts computes, for every reachable block, the outcomes known on every
// path into it (libpcap's edge dominators, seen from the block).
func (m *mgraph) facts() ([][]fact, error) {
	facts := make([][]fact, len(m.b))
	for k := len(m.post) - 1; k >= 0; k-- {
		i := m.post[k]
		if i <= 1 || i == m.root {
			continue
		}
		var cur []fact
		for n, e := range m.in[i] {
			f := m.edgeFacts(facts[e.pred], e)
			if n == 0 {
				cur = f
			} else {
				cur = intersectFacts(cur, f)
			}
		}
		if m.work += len(cur) + len(m.in[i]); m.work > maxWork {
			return nil, errComplex
		}
		facts[i] = cur
	}
	return facts, nil
}

// edgeFacts are the facts of pred plus its outcome along e.
func (m *mgraph) edgeFacts(pred []fact, e edge) []fact {
	f := m.tid(m.b[e.pred].t) << 1
	if e.hi {
		f |= 1
	}
	i, found := slices.BinarySearch(pred, f)
	if found {
		return pred
	}
	return slices.Insert(slices.Clip(pred), i, f)
}

func intersectFacts(a, b []fact) []fact {
	var out []fact
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return out
}

// decide looks t up in facts: the same test, or an equality on the same
// value known to hold for another constant (fold_edge).
func (m *mgraph) decide(t test, facts []fact) (val, known bool) {
	id := m.tid(t)
	if _, found := slices.BinarySearch(facts, id<<1|1); found {
		return true, true
	}
	if _, found := slices.BinarySearch(facts, id<<1); found {
		return false, true
	}
	if t.op != opEQ {
		return false, false
	}
	for _, f := range facts {
		o := m.tlist[f>>1]
		if f&1 == 1 && o.op == opEQ && o.ld == t.ld && o.k != t.k {
			return false, true
		}
	}
	return false, false
}

// thread is opt_j on every edge: past a block whose exits are the same,
// and past blocks decided by the edge's facts.
func (m *mgraph) thread(facts [][]fact) bool {
	changed := false
	for _, p := range m.post {
		if p <= 1 {
			continue
		}
		for _, hi := range []bool{true, false} {
			succ := &m.b[p].lo
			if hi {
				succ = &m.b[p].hi
			}
			if *succ <= 1 {
				continue
			}
			if m.b[*succ].hi == m.b[*succ].lo {
				*succ = m.b[*succ].hi
				changed = true
			}
			ef := m.edgeFacts(facts[p], edge{p, hi})
			for *succ > 1 {
				val, ok := m.decide(m.b[*succ].t, ef)
				if !ok {
					break
				}
				if val {
					*succ = m.b[*succ].hi
				} else {
					*succ = m.b[*succ].lo
				}
				changed = true
			}
		}
	}
	return changed
}

// pull is or_pullup (and_pullup when and): below b, along the chain of
// blocks that share b's exit (true exit for or, false for and) and that b
// dominates, find the first block not testing the value b's predecessors
// test, then the next one that does, and move that one up in front of it.
func (m *mgraph) pull(b int, and bool) bool {
	in := m.in[b]
	if len(in) == 0 {
		return false
	}
	val := m.b[in[0].pred].t.ld
	for _, e := range in[1:] {
		if m.b[e.pred].t.ld != val {
			return false
		}
	}
	exit := func(i int) int {
		if and {
			return m.b[i].lo
		}
		return m.b[i].hi
	}
	next := func(i int) *int {
		if and {
			return &m.b[i].hi
		}
		return &m.b[i].lo
	}
	ok := func(i int) bool { return i > 1 && exit(i) == exit(b) && m.dominates(b, i) }
	diff, diffp, top := b, (*int)(nil), true
	for steps := 0; ; steps++ {
		if !ok(diff) || steps > len(m.b) {
			return false
		}
		if m.b[diff].t.ld != val {
			break
		}
		diffp, diff, top = next(diff), *next(diff), false
	}
	samep := next(diff)
	for steps := 0; ; steps++ {
		same := *samep
		if !ok(same) || steps > len(m.b) {
			return false
		}
		if m.b[same].t.ld == val {
			break
		}
		samep = next(same)
	}
	pull := *samep
	*samep = *next(pull)
	*next(pull) = diff
	if !top {
		*diffp = pull
		return true
	}
	for _, e := range in {
		if m.b[e.pred].hi == b {
			m.b[e.pred].hi = pull
		} else {
			m.b[e.pred].lo = pull
		}
	}
	return true
}
