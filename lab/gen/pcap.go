package main

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/netip"
)

// pcapWriter writes a classic microsecond pcap with Ethernet frames.
type pcapWriter struct {
	w    io.Writer
	buf  []byte
	fill []byte // encrypted-looking payload bytes
	err  error
}

func newPcapWriter(w io.Writer) *pcapWriter {
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	_, err := w.Write(hdr)
	fill := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range fill {
		fill[i] = byte(r.Uint32())
	}
	return &pcapWriter{w: w, buf: make([]byte, 0, 2048), fill: fill, err: err}
}

func mac(a netip.Addr) []byte {
	b := a.As16()
	return []byte{0x02, 0x42, b[12], b[13], b[14], b[15]}
}

// write appends one frame. The TCP header carries the timestamp option (32
// bytes), or MSS, SACK-permitted, timestamps and window scale on a SYN.
func (pw *pcapWriter) write(p pkt, src, dst netip.AddrPort) {
	if pw.err != nil {
		return
	}
	v6 := src.Addr().Is6() && !src.Addr().Is4In6()
	tcpLen := 32
	if p.flags&fSYN != 0 {
		tcpLen = 40
	}
	etype := uint16(0x0800)
	if v6 {
		etype = 0x86dd
	}
	b := pw.buf[:0]
	b = append(b, make([]byte, 16)...) // record header, filled below
	b = append(b, mac(dst.Addr())...)
	b = append(b, mac(src.Addr())...)
	b = binary.BigEndian.AppendUint16(b, etype)
	ip := len(b)
	if v6 {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(tcpLen+p.n))
		b = append(b, 6, 64)
		s, d := src.Addr().As16(), dst.Addr().As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	} else {
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(20+tcpLen+p.n))
		b = append(b, 0, 0, 0x40, 0, 64, 6, 0, 0)
		s, d := src.Addr().As4(), dst.Addr().As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		binary.BigEndian.PutUint16(b[ip+10:], checksum(b[ip:ip+20], 0))
	}
	tcp := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint32(b, p.seq)
	ack := p.ack
	if p.flags&fACK == 0 {
		ack = 0
	}
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, byte(tcpLen/4)<<4, p.flags, 0x01, 0xf5, 0, 0, 0, 0)
	tsval := uint32(p.at/1000) + uint32(p.from)*0x10000000
	if p.flags&fSYN != 0 {
		b = append(b, 2, 4, 0x05, 0xb4, 4, 2, 8, 10)
		b = binary.BigEndian.AppendUint32(b, tsval)
		b = append(b, 0, 0, 0, 0, 1, 3, 3, 7)
	} else {
		b = append(b, 1, 1, 8, 10)
		b = binary.BigEndian.AppendUint32(b, tsval)
		b = binary.BigEndian.AppendUint32(b, tsval^0x5a5a5a5a)
	}
	if p.data != nil {
		b = append(b, p.data...)
	} else if p.n > 0 {
		off := int(p.seq % uint32(len(pw.fill)-p.n))
		b = append(b, pw.fill[off:off+p.n]...)
	}
	// TCP checksum over the pseudo-header.
	var sum uint32
	if v6 {
		sum = sumBytes(b[ip+8:ip+40], 0) + uint32(len(b)-tcp) + 6
	} else {
		sum = sumBytes(b[ip+12:ip+20], 0) + uint32(len(b)-tcp) + 6
	}
	binary.BigEndian.PutUint16(b[tcp+16:], checksum(b[tcp:], sum))
	frame := len(b) - 16
	binary.LittleEndian.PutUint32(b[0:], uint32(Start.Unix()+p.at/sec))
	binary.LittleEndian.PutUint32(b[4:], uint32(p.at%sec))
	binary.LittleEndian.PutUint32(b[8:], uint32(frame))
	binary.LittleEndian.PutUint32(b[12:], uint32(frame))
	_, pw.err = pw.w.Write(b)
	pw.buf = b
}

func sumBytes(b []byte, sum uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func checksum(b []byte, sum uint32) uint16 {
	sum = sumBytes(b, sum)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
