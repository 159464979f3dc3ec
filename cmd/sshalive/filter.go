package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sshalive/sshalive/analyze"
)

// filter selects the segments to analyse: TCP to or from an SSH port.
type filter struct {
	ports map[uint16]bool
	desc  string
}

func newFilter(cfg Config) (*filter, error) {
	if len(cfg.Filter) > 0 {
		return nil, errors.New("filter expressions are not supported yet; use --port to choose SSH ports")
	}
	f := &filter{ports: map[uint16]bool{}}
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
	return f, nil
}

func (f *filter) match(s *analyze.Segment) bool {
	return f.ports[s.Src.Port()] || f.ports[s.Dst.Port()]
}

func (f *filter) String() string { return f.desc }
