// Package analyze turns TCP segments into per-connection keepalive facts.
//
// It owns the classification of SSH-layer keepalives (OpenSSH ServerAlive and
// ClientAlive probes and their replies, recognised by size, direction, idle time
// and reply) and TCP keepalives (0/1-byte segments at seq = next-1 and their
// ACKs), the interval statistics and the settings inferred from them.
//
// It is the leaf of the program: it reads no files, prints nothing, never reads
// the wall clock (packet time is the only clock) and imports neither gopacket
// nor any other package of this module. capture/ feeds it Segments; report/
// renders the Summary it returns.
package analyze
