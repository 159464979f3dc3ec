package main

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const snaplen = 262144

// pcap serialises the trace as a classic (microsecond) pcap with Ethernet
// link type, IPv4/TCP checksums computed.
func (tr *trace) pcap() ([]byte, error) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(snaplen, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	serverID := uint16(0x4c2e) // Linux sshd: per-connection incrementing IP ID
	for i, p := range tr.Pkts {
		src, dst := tr.Client, tr.Server
		smac, dmac := tr.ClientMAC, tr.ServerMAC
		var id uint16
		if p.FromClient {
			id = uint16(det(tr.File+" ipid", i, 0, 0xffff)) // client (macOS): random IP IDs
		} else {
			src, dst = dst, src
			smac, dmac = dmac, smac
			id = serverID
			serverID++
		}
		eth := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{
			Version: 4, IHL: 5, TTL: 64, Id: id, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP,
			SrcIP:    src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
		}
		ts := make([]byte, 8)
		binary.BigEndian.PutUint32(ts, p.TSval)
		binary.BigEndian.PutUint32(ts[4:], p.TSecr)
		tcp := &layers.TCP{
			SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
			Seq: p.Seq, Ack: p.Ack, ACK: true, PSH: p.PSH, FIN: p.FIN, Window: p.Win,
			Options: []layers.TCPOption{
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindTimestamps, OptionData: ts},
			},
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		sb := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}
		if err := gopacket.SerializeLayers(sb, opts, eth, ip, tcp,
			gopacket.Payload(payloadBytes(tr.File, i, p.Len))); err != nil {
			return nil, fmt.Errorf("packet %d: %w", i+1, err)
		}
		data := sb.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: p.T, CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
