package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Manifest entry, in the shape lab/scratch/entries/*.entry.json uses.
type entry struct {
	File        string       `json:"file"`
	Scenario    string       `json:"scenario"`
	Synthetic   bool         `json:"synthetic"`
	Made        made         `json:"made"`
	Format      string       `json:"format"`
	LinkType    int          `json:"link_type"`
	Packets     int          `json:"packets"`
	TCPPackets  int          `json:"tcp_packets"`
	Connections []connection `json:"connections"`
	Notes       []string     `json:"notes"`
}

type made struct {
	Source string `json:"source"`
	Tool   string `json:"tool"`
}

type connection struct {
	Client        string         `json:"client"`
	Server        string         `json:"server"`
	Packets       int            `json:"packets"`
	Handshake     bool           `json:"handshake"`
	SSHKeepalives []sshKeepalive `json:"ssh_keepalives"`
	TCPKeepalives []any          `json:"tcp_keepalives"`
	End           end            `json:"end"`
	Cause         string         `json:"cause,omitempty"`
	CauseEvidence string         `json:"cause_evidence,omitempty"`
	Evidence      []string       `json:"evidence"`
}

type sshKeepalive struct {
	Sender     string   `json:"sender"`
	Probes     int      `json:"probes"`
	Answered   int      `json:"answered"`
	ProbeBytes int      `json:"probe_bytes"`
	ReplyBytes int      `json:"reply_bytes"`
	IntervalS  interval `json:"interval_s"`
}

type interval struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

type end struct {
	How string `json:"how"`
	By  string `json:"by"`
}

func (e *entry) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// seg is one TCP segment as read back from the pcap.
type seg struct {
	t        time.Time
	src, dst netip.AddrPort
	tcp      *layers.TCP
	n        int
}

// readSegments reads a pcap and returns its link type, packet count and TCP
// segments (IPv4 only; these files hold nothing else).
func readSegments(path string) (layers.LinkType, int, []seg, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return 0, 0, nil, err
	}
	var segs []seg
	count := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		count++
		pk := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			continue
		}
		sa, _ := netip.AddrFromSlice(ip.SrcIP)
		da, _ := netip.AddrFromSlice(ip.DstIP)
		segs = append(segs, seg{
			t:   ci.Timestamp.UTC(),
			src: netip.AddrPortFrom(sa, uint16(tcp.SrcPort)),
			dst: netip.AddrPortFrom(da, uint16(tcp.DstPort)),
			tcp: tcp, n: len(tcp.Payload),
		})
	}
	return r.LinkType(), count, segs, nil
}

// entryFor computes the manifest entry from the pcap file on disk. Every data
// segment in these captures belongs to a keepalive exchange: the side sending
// the first data segment is the prober, and a data segment from the other side
// that follows an unanswered probe is its reply.
func entryFor(tr *trace, path string) (*entry, error) {
	lt, count, segs, err := readSegments(path)
	if err != nil {
		return nil, err
	}
	e := &entry{
		File: filepath.Base(path), Scenario: tr.Scenario, Synthetic: true,
		Made:   made{Source: tr.Source, Tool: "go run ./lab/seedtraces"},
		Format: "pcap", LinkType: int(lt), Packets: count, TCPPackets: len(segs),
		Notes: tr.Notes,
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("no TCP segments")
	}
	// One connection; the server is the port-22 side.
	client, server := segs[0].src, segs[0].dst
	if client.Port() == 22 {
		client, server = server, client
	}
	c := connection{
		Client: client.String(), Server: server.String(),
		TCPKeepalives: []any{}, End: end{How: "open"},
		Evidence: []string{"synthetic: rebuilt from the seed text; elided probes filled in"},
	}
	var (
		prober       netip.AddrPort
		probeTimes   []time.Time
		probeSizes   = map[int]int{}
		replySizes   = map[int]int{}
		answered     int
		pending      bool
		sentEnd      = map[netip.AddrPort]uint32{} // highest seq+len sent per side
		haveSentData = map[netip.AddrPort]bool{}
	)
	for _, s := range segs {
		if !(s.src == client && s.dst == server) && !(s.src == server && s.dst == client) {
			return nil, fmt.Errorf("more than one connection in %s", path)
		}
		c.Packets++
		if s.tcp.SYN {
			c.Handshake = true
		}
		who := "client"
		if s.src == server {
			who = "server"
		}
		if (s.tcp.FIN || s.tcp.RST) && c.End.By == "" {
			c.End = end{How: map[bool]string{true: "fin", false: "rst"}[s.tcp.FIN], By: who}
		}
		// TCP keepalive: an empty or 1-byte segment one below what the side already sent.
		if s.n <= 1 && haveSentData[s.src] && s.tcp.Seq == sentEnd[s.src]-1 {
			return nil, fmt.Errorf("unexpected TCP keepalive at %s", s.t.Format(time.RFC3339Nano))
		}
		if s.n == 0 || !tr.Logout.IsZero() && !s.t.Before(tr.Logout) {
			continue // no data, or the session's end (not a keepalive)
		}
		sentEnd[s.src] = s.tcp.Seq + uint32(s.n)
		haveSentData[s.src] = true
		if !prober.IsValid() {
			prober = s.src
		}
		switch {
		case s.src == prober:
			probeTimes = append(probeTimes, s.t)
			probeSizes[s.n]++
			pending = true
		case pending:
			replySizes[s.n]++
			answered++
			pending = false
		default:
			return nil, fmt.Errorf("data segment at %s is neither probe nor reply", s.t.Format(time.RFC3339Nano))
		}
	}
	if len(probeTimes) > 0 {
		ka := sshKeepalive{Sender: "client", Probes: len(probeTimes), Answered: answered}
		if prober == server {
			ka.Sender = "server"
		}
		if ka.ProbeBytes, err = onlySize(probeSizes); err != nil {
			return nil, fmt.Errorf("probes: %w", err)
		}
		if ka.ReplyBytes, err = onlySize(replySizes); err != nil {
			return nil, fmt.Errorf("replies: %w", err)
		}
		var gaps []float64
		for i := 1; i < len(probeTimes); i++ {
			gaps = append(gaps, probeTimes[i].Sub(probeTimes[i-1]).Seconds())
		}
		ka.IntervalS = stats(gaps)
		c.SSHKeepalives = []sshKeepalive{ka}
	} else {
		c.SSHKeepalives = []sshKeepalive{}
	}
	if !tr.Logout.IsZero() {
		c.Cause, c.CauseEvidence = tr.Cause, tr.CauseEvidence
		c.Evidence = append(c.Evidence, "synthetic: the session end filled in after the sshd log (see notes)")
	} else {
		c.Cause, c.CauseEvidence = "open", "synthetic: the text shows no end; the capture ends after the last probe exchange"
	}
	e.Connections = []connection{c}
	return e, nil
}

func onlySize(m map[int]int) (int, error) {
	if len(m) != 1 {
		return 0, fmt.Errorf("sizes vary: %v", m)
	}
	for k := range m {
		return k, nil
	}
	return 0, nil
}

func stats(xs []float64) interval {
	if len(xs) == 0 {
		return interval{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	r := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	return interval{Median: r(med), Min: r(s[0]), Max: r(s[len(s)-1])}
}
