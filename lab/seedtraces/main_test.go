package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// want is a packet as printed in shared/seeds/000_14b9e56f8235ac02.txt, with
// absolute seq/ack (first trace: ISN 0, so absolute = printed; second trace:
// server 3353822173 + printed, client 532087735 + printed).
type want struct {
	ts           string // hh:mm:ss.uuuuuu on 2026-02-26 UTC
	src          string
	flags        string
	seq, ack     uint32
	win          uint16
	tsval, tsecr uint32
	length       int
}

const (
	saClient = "10.79.102.248:61622"
	caClient = "10.79.109.185:53650"
	server   = "10.124.202.230:22"
)

var wantServerAlive = []want{
	{"10:37:11.741159", saClient, "P.", 2770, 3790, 2048, 2022184725, 1297845101, 52},
	{"10:37:11.767047", server, "P.", 3790, 2822, 287, 1297865128, 2022184725, 28},
	{"10:37:11.767183", saClient, ".", 2822, 3818, 2047, 2022184750, 1297865128, 0},
	{"10:37:31.769396", saClient, "P.", 2822, 3818, 2048, 2022204561, 1297865128, 52},
	{"10:37:31.789991", server, "P.", 3818, 2874, 287, 1297885154, 2022204561, 28},
}

const saTruncated = "10:37:31.790058 IP 10.79.102.248.61622 > 10.124" // the text's cut-off sixth line

var wantClientAlive = []want{
	{"17:13:26.391546", server, "P.", 3353822173, 532087736, 287, 1321639748, 2045603805, 60},
	{"17:13:26.391630", caClient, ".", 532087736, 3353822173 + 60, 2047, 2045703098, 1321639748, 0},
	{"17:13:26.391814", caClient, "P.", 532087735 + 1, 3353822173 + 60, 2048, 2045703098, 1321639748, 36},
	{"17:13:26.411743", server, ".", 3353822173 + 60, 532087735 + 37, 287, 1321639769, 2045703098, 0},
	{"17:15:06.431196", server, "P.", 3353822173 + 60, 532087735 + 37, 287, 1321739769, 2045703098, 60},
	{"17:15:06.431284", caClient, ".", 532087735 + 37, 3353822173 + 120, 2047, 2045802573, 1321739769, 0},
	{"17:15:06.431406", caClient, "P.", 532087735 + 37, 3353822173 + 120, 2048, 2045802573, 1321739769, 36},
	{"17:15:06.452580", server, ".", 3353822173 + 120, 532087735 + 73, 287, 1321739806, 2045802573, 0},
}

// The document's lines, as tcpdump -nn prints them (port "ssh" → "22").
var textServerAlive = []string{
	"10:37:11.741159 IP 10.79.102.248.61622 > 10.124.202.230.22: Flags [P.], seq 2770:2822, ack 3790, win 2048, options [nop,nop,TS val 2022184725 ecr 1297845101], length 52",
	"10:37:11.767047 IP 10.124.202.230.22 > 10.79.102.248.61622: Flags [P.], seq 3790:3818, ack 2822, win 287, options [nop,nop,TS val 1297865128 ecr 2022184725], length 28",
	"10:37:11.767183 IP 10.79.102.248.61622 > 10.124.202.230.22: Flags [.], ack 3818, win 2047, options [nop,nop,TS val 2022184750 ecr 1297865128], length 0",
	"10:37:31.769396 IP 10.79.102.248.61622 > 10.124.202.230.22: Flags [P.], seq 2822:2874, ack 3818, win 2048, options [nop,nop,TS val 2022204561 ecr 1297865128], length 52",
	"10:37:31.789991 IP 10.124.202.230.22 > 10.79.102.248.61622: Flags [P.], seq 3818:3846, ack 2874, win 287, options [nop,nop,TS val 1297885154 ecr 2022204561], length 28",
}

var textClientAlive = []string{
	"17:13:26.391546 IP 10.124.202.230.22 > 10.79.109.185.53650: Flags [P.], seq 3353822173:3353822233, ack 532087736, win 287, options [nop,nop,TS val 1321639748 ecr 2045603805], length 60",
	"17:13:26.391630 IP 10.79.109.185.53650 > 10.124.202.230.22: Flags [.], ack 60, win 2047, options [nop,nop,TS val 2045703098 ecr 1321639748], length 0",
	"17:13:26.391814 IP 10.79.109.185.53650 > 10.124.202.230.22: Flags [P.], seq 1:37, ack 60, win 2048, options [nop,nop,TS val 2045703098 ecr 1321639748], length 36",
	"17:13:26.411743 IP 10.124.202.230.22 > 10.79.109.185.53650: Flags [.], ack 37, win 287, options [nop,nop,TS val 1321639769 ecr 2045703098], length 0",
	"17:15:06.431196 IP 10.124.202.230.22 > 10.79.109.185.53650: Flags [P.], seq 60:120, ack 37, win 287, options [nop,nop,TS val 1321739769 ecr 2045703098], length 60",
	"17:15:06.431284 IP 10.79.109.185.53650 > 10.124.202.230.22: Flags [.], ack 120, win 2047, options [nop,nop,TS val 2045802573 ecr 1321739769], length 0",
	"17:15:06.431406 IP 10.79.109.185.53650 > 10.124.202.230.22: Flags [P.], seq 37:73, ack 120, win 2048, options [nop,nop,TS val 2045802573 ecr 1321739769], length 36",
	"17:15:06.452580 IP 10.124.202.230.22 > 10.79.109.185.53650: Flags [.], ack 73, win 287, options [nop,nop,TS val 1321739806 ecr 2045802573], length 0",
}

func generate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := run(filepath.Join(dir, "pcaps"), filepath.Join(dir, "entries")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDeterministic(t *testing.T) {
	a, b := generate(t), generate(t)
	for _, rel := range []string{
		"pcaps/seed-serveralive.pcap", "pcaps/seed-clientalive.pcap",
		"entries/seed-serveralive.entry.json", "entries/seed-clientalive.entry.json",
	} {
		x, err := os.ReadFile(filepath.Join(a, rel))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", rel)
		}
	}
}

type readPkt struct {
	ts    time.Time
	src   string
	tcp   *layers.TCP
	n     int
	flags string
}

func readBack(t *testing.T, path string) []readPkt {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("%s: link type %v, want Ethernet", path, r.LinkType())
	}
	var out []readPkt
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("%s packet %d: %v", path, len(out)+1, el.Error())
		}
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		fl := "."
		if tcp.PSH {
			fl = "P."
		}
		if tcp.SYN || tcp.FIN || tcp.RST || !tcp.ACK {
			fl = "?"
		}
		out = append(out, readPkt{ci.Timestamp.UTC(), ip.SrcIP.String() + ":" + tcp.SrcPort.String(), tcp, len(tcp.Payload), fl})
	}
	return out
}

func checkPrinted(t *testing.T, path string, got []readPkt, wants []want) {
	t.Helper()
	if len(got) < len(wants) {
		t.Fatalf("%s: %d packets, want at least %d", path, len(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		wt, _ := time.Parse("2006-01-02 15:04:05.000000", "2026-02-26 "+w.ts)
		src := strings.Replace(g.src, "(ssh)", "", 1)
		var opt []byte
		for _, o := range g.tcp.Options {
			if o.OptionType == layers.TCPOptionKindTimestamps {
				opt = o.OptionData
			}
		}
		var tsval, tsecr uint32
		if len(opt) == 8 {
			tsval = uint32(opt[0])<<24 | uint32(opt[1])<<16 | uint32(opt[2])<<8 | uint32(opt[3])
			tsecr = uint32(opt[4])<<24 | uint32(opt[5])<<16 | uint32(opt[6])<<8 | uint32(opt[7])
		}
		if !g.ts.Equal(wt) || src != w.src || g.flags != w.flags || g.tcp.Seq != w.seq || g.tcp.Ack != w.ack ||
			g.tcp.Window != w.win || tsval != w.tsval || tsecr != w.tsecr || g.n != w.length {
			t.Errorf("%s packet %d:\n got %s %s [%s] seq %d ack %d win %d TS %d/%d len %d\nwant %s %s [%s] seq %d ack %d win %d TS %d/%d len %d",
				path, i+1, g.ts.Format("15:04:05.000000"), src, g.flags, g.tcp.Seq, g.tcp.Ack, g.tcp.Window, tsval, tsecr, g.n,
				w.ts, w.src, w.flags, w.seq, w.ack, w.win, w.tsval, w.tsecr, w.length)
		}
	}
}

func TestPrintedPackets(t *testing.T) {
	dir := generate(t)
	sa := readBack(t, filepath.Join(dir, "pcaps/seed-serveralive.pcap"))
	checkPrinted(t, "seed-serveralive.pcap", sa, wantServerAlive)
	// The cut-off sixth line: its timestamp and direction, an ACK of the second reply.
	if g := sa[5]; g.ts.Format("15:04:05.000000") != "10:37:31.790058" || g.src != saClient || g.flags != "." ||
		g.n != 0 || g.tcp.Ack != 3846 {
		t.Errorf("seed-serveralive.pcap packet 6: %+v", g)
	}
	ca := readBack(t, filepath.Join(dir, "pcaps/seed-clientalive.pcap"))
	checkPrinted(t, "seed-clientalive.pcap", ca, wantClientAlive)
	if len(ca) != 6*4 {
		t.Errorf("seed-clientalive.pcap: %d packets, want 24 (6 probe exchanges)", len(ca))
	}

	// The whole capture: 29 exchanges within the session of the document,
	// then the logout's 10 packets, ending with both FINs.
	logout, _ := time.Parse(time.DateTime, "2026-02-26 10:46:51")
	if len(sa) != 29*3+10 {
		t.Fatalf("seed-serveralive.pcap: %d packets, want 29 exchanges and 10 for the end", len(sa))
	}
	end := sa[29*3:]
	sa = sa[:29*3]
	if last := sa[len(sa)-1].ts; !last.Before(logout) {
		t.Errorf("seed-serveralive.pcap: last probe exchange %s after the logout", last)
	}
	if first := end[0]; first.src == saClient || first.n == 0 || first.ts.Sub(logout) < 0 || first.ts.Sub(logout) > time.Second {
		t.Errorf("seed-serveralive.pcap: the end should start with the server's data in the logout second: %+v", first)
	}
	if !end[len(end)-3].tcp.FIN || !end[len(end)-2].tcp.FIN || end[len(end)-3].src == saClient {
		t.Errorf("seed-serveralive.pcap: the end should close with the server's FIN, then the client's")
	}
	for i := 3; i < len(sa); i += 3 {
		gap := sa[i].ts.Sub(sa[i-3].ts)
		if gap < 20020*time.Millisecond || gap > 20035*time.Millisecond {
			t.Errorf("seed-serveralive.pcap: probe %d %v after the previous one", i/3+1, gap)
		}
	}
}

func TestEntries(t *testing.T) {
	dir := generate(t)
	for _, c := range []struct {
		name            string
		sender          string
		probes, packets int
		probeB, replyB  int
	}{
		{"seed-serveralive", "client", 29, 97, 52, 28},
		{"seed-clientalive", "server", 6, 24, 60, 36},
	} {
		b, err := os.ReadFile(filepath.Join(dir, "entries", c.name+".entry.json"))
		if err != nil {
			t.Fatal(err)
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if e.File != c.name+".pcap" || e.LinkType != 1 || e.Packets != c.packets || e.TCPPackets != c.packets ||
			len(e.Connections) != 1 {
			t.Fatalf("%s: %+v", c.name, e)
		}
		conn := e.Connections[0]
		wantEnd, wantCause := "open", "open"
		if c.name == "seed-serveralive" {
			wantEnd, wantCause = "fin", "idle-logout"
		}
		if conn.Handshake || conn.End.How != wantEnd || conn.Cause != wantCause || len(conn.SSHKeepalives) != 1 || len(conn.TCPKeepalives) != 0 {
			t.Errorf("%s: connection %+v", c.name, conn)
			continue
		}
		k := conn.SSHKeepalives[0]
		if k.Sender != c.sender || k.Probes != c.probes || k.Answered != c.probes || k.ProbeBytes != c.probeB || k.ReplyBytes != c.replyB {
			t.Errorf("%s: keepalives %+v", c.name, k)
		}
	}
}

// TestTcpdumpOutput compares tcpdump's own rendering with the document's lines
// (the first trace with -S: its printed numbers are relative to the unseen ISN,
// chosen as 0).
func TestTcpdumpOutput(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	dir := generate(t)
	dump := func(file string, args ...string) []string {
		cmd := exec.Command("tcpdump", append(args, "-nn", "-r", filepath.Join(dir, "pcaps", file))...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tcpdump %s: %v", file, err)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	sa := dump("seed-serveralive.pcap", "-S")
	for i, w := range textServerAlive {
		if sa[i] != w {
			t.Errorf("serveralive line %d:\n got %s\nwant %s", i+1, sa[i], w)
		}
	}
	if !strings.HasPrefix(sa[5], strings.Replace(saTruncated, ".ssh", ".22", 1)) {
		t.Errorf("serveralive line 6: %s", sa[5])
	}
	ca := dump("seed-clientalive.pcap")
	for i, w := range textClientAlive {
		if ca[i] != w {
			t.Errorf("clientalive line %d:\n got %s\nwant %s", i+1, ca[i], w)
		}
	}
}
