// Package bpfc compiles the subset of tcpdump filter expressions that
// sshalive's users write (host, net, port, portrange, tcp, ip, ip6, vlan,
// and/or/not) into classic BPF, in pure Go, with libpcap's semantics: the
// same packets are accepted, the same value is returned, and the offsets
// after "vlan" shift as libpcap's do. Anything outside the subset is an
// error wrapping ErrUnsupported, so that a caller can fall back to libpcap.
//
// It owns parsing and code generation only: it reads no files, resolves no
// names (no DNS, no /etc/services) and never runs a program.
package bpfc
