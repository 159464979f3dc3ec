package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// filter selects the segments to analyse: TCP to or from an SSH port.
type filter struct {
	expr  string // tcpdump expression; when set, it alone decides
	ports map[uint16]bool
	isSSH *[1024]uint64 // ports as a bitmap: match runs for every packet
	desc  string
	other map[uint16]bool // ports outside the filter that sent an SSH banner
	mu    sync.Mutex      // guards other: decoders notice in parallel
}

func newFilter(cfg Config) (*filter, error) {
	f := &filter{ports: map[uint16]bool{}, other: map[uint16]bool{}}
	if len(cfg.Filter) > 0 {
		// A tcpdump expression replaces the port filter, as in tcpdump.
		f.expr = strings.Join(cfg.Filter, " ")
		if err := capture.ValidateFilter(f.expr); err != nil {
			return nil, err
		}
		f.desc = f.expr
		return f, nil
	}
	ports := cfg.Ports
	if len(ports) == 0 {
		ports = []int{22}
	}
	var desc []string
	for _, p := range ports {
		f.ports[uint16(p)] = true
		desc = append(desc, "tcp port "+strconv.Itoa(p))
	}
	f.desc = strings.Join(desc, " or ")
	f.isSSH = new([1024]uint64)
	for p := range f.ports {
		f.isSSH[p>>6] |= 1 << (p & 63)
	}
	return f, nil
}

func (f *filter) match(s *analyze.Segment) bool {
	if f.expr != "" {
		return true
	}
	a, b := s.Src.Port(), s.Dst.Port()
	return f.isSSH[a>>6]&(1<<(a&63)) != 0 || f.isSSH[b>>6]&(1<<(b&63)) != 0
}

func (f *filter) String() string { return f.desc }

// banner tells whether s is an SSH version banner from the lower port
// (servers listen on low ports, clients send from ephemeral ones): outside
// the filter, notice remembers its port, so that a run that finds nothing
// can say where SSH was.
func (f *filter) banner(s *analyze.Segment) bool {
	return len(s.Payload) >= 8 && string(s.Payload[:8]) == "SSH-2.0-" && s.Src.Port() < s.Dst.Port()
}

// notice remembers the port of a banner outside the filter.
func (f *filter) notice(s *analyze.Segment) {
	f.mu.Lock()
	if len(f.other) < 16 {
		f.other[s.Src.Port()] = true
	}
	f.mu.Unlock()
}

// sortedPorts lists a port set in order.
func sortedPorts(set map[uint16]bool) []string {
	ports := make([]int, 0, len(set))
	for p := range set {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = strconv.Itoa(p)
	}
	return out
}

// hint suggests --port for the SSH banners seen on other ports.
func (f *filter) hint() string {
	if len(f.other) == 0 {
		return ""
	}
	ports := sortedPorts(f.other)
	plural := ""
	if len(ports) > 1 {
		plural = "s"
	}
	return fmt.Sprintf("; SSH banners were sent from port%s %s: try -p %s", plural, strings.Join(ports, ", "), strings.Join(ports, " -p "))
}

// kernel is the BPF expression a live capture compiles into the kernel:
// the user's, or the SSH ports, VLAN-tagged or not; cooked the same for a
// cooked capture (-i any), whose VLAN tags are out of band.
func (f *filter) kernel() (expr, cooked string) {
	if f.expr != "" {
		return f.expr, f.expr
	}
	tcp := "tcp and (port " + strings.Join(sortedPorts(f.ports), " or port ") + ")"
	return tcp + " or (vlan and " + tcp + ")", tcp
}
