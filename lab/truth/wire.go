package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// pkt is one frame as tshark dissected it.
type pkt struct {
	n         int
	t         float64
	isTCP     bool
	src, dst  netip.AddrPort
	stream    int
	tcpLen    int
	seq, ack  uint32
	syn, fin  bool
	rst, ackF bool
	win       int
	ka, kaAck bool // tshark tcp.analysis.keep_alive / keep_alive_ack
	retrans   bool // tshark tcp.analysis.retransmission
	capLen    int
}

var tsharkFields = []string{
	"frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
	"tcp.srcport", "tcp.dstport", "tcp.stream", "tcp.len", "tcp.seq", "tcp.ack",
	"tcp.flags.syn", "tcp.flags.fin", "tcp.flags.reset", "tcp.flags.ack", "tcp.window_size_value",
	"tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack", "tcp.analysis.retransmission",
	"frame.cap_len",
}

// readWire runs tshark over path and returns every frame.
func readWire(path string) ([]pkt, error) {
	args := []string{"-r", path, "-o", "tcp.relative_sequence_numbers:FALSE",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark %s: %w: %s", path, err, stderr.String())
	}
	var pkts []pkt
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < len(tsharkFields) {
			return nil, fmt.Errorf("tshark %s: short line %q", path, sc.Text())
		}
		var p pkt
		p.n = atoi(f[0])
		p.t, _ = strconv.ParseFloat(f[1], 64)
		p.capLen = atoi(f[20])
		if f[6] != "" && f[7] != "" {
			src, dst := f[2], f[4]
			if src == "" {
				src, dst = f[3], f[5]
			}
			sa, err1 := netip.ParseAddr(src)
			da, err2 := netip.ParseAddr(dst)
			if err1 == nil && err2 == nil {
				p.isTCP = true
				p.src = netip.AddrPortFrom(sa, uint16(atoi(f[6])))
				p.dst = netip.AddrPortFrom(da, uint16(atoi(f[7])))
				p.stream = atoi(f[8])
				p.tcpLen = atoi(f[9])
				p.seq = uint32(atou(f[10]))
				p.ack = uint32(atou(f[11]))
				p.syn = f[12] == "1" || f[12] == "True"
				p.fin = f[13] == "1" || f[13] == "True"
				p.rst = f[14] == "1" || f[14] == "True"
				p.ackF = f[15] == "1" || f[15] == "True"
				p.win = atoi(f[16])
				p.ka = f[17] != ""
				p.kaAck = f[18] != ""
				p.retrans = f[19] != ""
			}
		}
		pkts = append(pkts, p)
	}
	return pkts, sc.Err()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

func atou(s string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return n
}

// fileHeader reads the capture format, link type and snap length from the
// file itself (pcap global header or the first pcapng interface block).
func fileHeader(path string) (format string, linkType, snaplen int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, 0, err
	}
	if len(b) < 24 {
		return "", 0, 0, fmt.Errorf("%s: too short", path)
	}
	switch {
	case bytes.Equal(b[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}), bytes.Equal(b[:4], []byte{0x4d, 0x3c, 0xb2, 0xa1}):
		return "pcap", int(binary.LittleEndian.Uint32(b[20:])), int(binary.LittleEndian.Uint32(b[16:])), nil
	case bytes.Equal(b[:4], []byte{0xa1, 0xb2, 0xc3, 0xd4}), bytes.Equal(b[:4], []byte{0xa1, 0xb2, 0x3c, 0x4d}):
		return "pcap", int(binary.BigEndian.Uint32(b[20:])), int(binary.BigEndian.Uint32(b[16:])), nil
	case bytes.Equal(b[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		var bo binary.ByteOrder = binary.LittleEndian
		if bytes.Equal(b[8:12], []byte{0x1a, 0x2b, 0x3c, 0x4d}) {
			bo = binary.BigEndian
		}
		for off := 0; off+12 <= len(b); {
			typ := bo.Uint32(b[off:])
			l := int(bo.Uint32(b[off+4:]))
			if l < 12 || off+l > len(b) {
				break
			}
			if typ == 1 && off+16 <= len(b) {
				return "pcapng", int(bo.Uint16(b[off+8:])), int(bo.Uint32(b[off+12:])), nil
			}
			off += l
		}
		return "", 0, 0, fmt.Errorf("%s: pcapng without an interface block", path)
	}
	return "", 0, 0, fmt.Errorf("%s: not pcap or pcapng", path)
}
