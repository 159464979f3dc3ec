//go:build cgo && libpcap

package bpfc_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/sshalive/sshalive/capture/bpfc"
	"golang.org/x/net/bpf"
)

// randomExpr builds an expression of the subset from r, up to depth.
func randomExpr(r *rand.Rand, depth int) string {
	prims := []string{
		"tcp", "ip", "ip6", "vlan", "vlan 100", "vlan 200", "port 22", "port 2222", "port 80", "src port 22",
		"dst port 2222", "tcp port 22", "tcp dst port 22", "portrange 2200-2299", "src portrange 1-1024",
		"host 10.0.0.1", "src host 10.0.0.2", "dst host 10.0.0.1", "ip host 10.0.0.1", "net 10.0.0.0/8",
		"src net 192.168.0.0/16", "dst net 10.0.0.0/30", "host fe80::1", "dst host fe80::2", "net fe80::/10",
		"src and dst port 22", "src or dst host 10.0.0.1",
	}
	if depth == 0 || r.IntN(3) == 0 {
		p := prims[r.IntN(len(prims))]
		if r.IntN(6) == 0 {
			p = "not " + p
		}
		return p
	}
	a, b := randomExpr(r, depth-1), randomExpr(r, depth-1)
	op := []string{" and ", " or "}[r.IntN(2)]
	switch r.IntN(4) {
	case 0:
		return "(" + a + ")" + op + b
	case 1:
		return a + op + "(" + b + ")"
	case 2:
		return "not (" + a + op + b + ")"
	}
	return a + op + b
}

// TestRandomMatchesLibpcap: random expressions of the subset (fixed
// seed), every link type, the corpus: same expressions refused, and the
// same return values as libpcap's programs on every whole frame. On the
// prefixes of frames the differences are counted and logged, not failed:
// on long random expressions libpcap's optimizer sometimes leaves a dead
// test in (a block whose two exits are the same), whose load can fail
// where ours, having removed it, goes on.
func TestRandomMatchesLibpcap(t *testing.T) {
	const snaplen = 262144
	r := rand.New(rand.NewPCG(1, 2))
	var exprs []string
	for range 300 {
		exprs = append(exprs, randomExpr(r, 4))
	}
	real := fromCaptures(t, 4)
	synth := synthesized()
	failed, truncDiff, runs := 0, 0, 0
	for _, l := range linkTypes {
		frs, whole := corpus(l.lt, real, synth)
		for _, expr := range exprs {
			theirs, perr := libpcapVM(l.dlt, snaplen, expr)
			prog, err := bpfc.Compile(expr, l.lt, snaplen)
			if errors.Is(err, bpfc.ErrUnsupported) || (err != nil) != (perr != nil) {
				t.Errorf("%v %q: ours: %v; libpcap: %v", l.lt, expr, err, perr)
				failed++
				continue
			}
			if err != nil {
				continue
			}
			ours, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("%v %q: %v", l.lt, expr, err)
			}
			for i, b := range frs {
				runs++
				want, _ := runProg(theirs, b)
				if got, _ := runProg(ours, b); got != want {
					if i >= whole {
						truncDiff++
						continue
					}
					t.Errorf("%v %q: ours %d, libpcap %d on %s", l.lt, expr, got, want, describe(b))
					failed++
					break
				}
			}
			if failed > 20 {
				t.Fatal("too many differences")
			}
		}
	}
	t.Logf("%d random expressions × %d link types, %d runs; %d differ on truncated frames", len(exprs), len(linkTypes), runs, truncDiff)
}
