package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
	"github.com/sshalive/sshalive/internal/agree"
	"github.com/sshalive/sshalive/report"
)

// analyse runs sshalive's pipeline (as cmd/sshalive does, minus rendering)
// over a capture file.
func analyse(t *testing.T, path string) []report.JSONConn {
	t.Helper()
	f, err := capture.OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := capture.NewDecoder(f.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	tr := analyze.NewTracker(analyze.Config{})
	var seg analyze.Segment
	for {
		data, ci, err := f.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if dec.Decode(data, ci, &seg) {
			tr.Observe(seg)
		}
	}
	if dec.Stats.Malformed > 0 || dec.Stats.NonTCP > 0 {
		t.Errorf("decoder: %+v", dec.Stats)
	}
	var out []report.JSONConn
	for _, c := range tr.Flush().Conns {
		out = append(out, report.ConnJSON(c))
	}
	return out
}

func readTruth(t *testing.T, path string) Truth {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// probesOf renders keepalive entries in one comparable form.
func probesOf(ks []report.JSONKeepalives) []string {
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%s %s probes=%d answered=%d %d/%d", k.Sender, k.Kind, k.Probes, k.Answered, k.ProbeBytes, k.ReplyBytes))
	}
	slices.Sort(out)
	return out
}

func truthProbes(ks []TruthProbes) []string {
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%s %s probes=%d answered=%d %d/%d", k.Sender, k.Kind, k.Probes, k.Answered, k.ProbeBytes, k.ReplyBytes))
	}
	slices.Sort(out)
	return out
}

func intOrNil(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// TestTruth: on a generated capture, sshalive finds exactly what the
// generator planted, connection by connection.
func TestTruth(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			dir := t.TempDir()
			pcap, truth := filepath.Join(dir, "gen.pcap"), filepath.Join(dir, "truth.json")
			if err := generate(options{out: pcap, truth: truth, conns: 30, duration: 15 * time.Minute, seed: seed, ipv6: 0.2}); err != nil {
				t.Fatal(err)
			}
			want := readTruth(t, truth)
			got := map[string]report.JSONConn{}
			for _, c := range analyse(t, pcap) {
				got[c.Client+" "+c.Server] = c
				for _, d := range agree.Check(c) {
					t.Errorf("%s > %s disagrees with itself: %s", c.Client, c.Server, d)
				}
			}
			if len(got) != len(want.Connections) {
				t.Errorf("%d connections, planted %d", len(got), len(want.Connections))
			}
			planted := 0
			for _, w := range want.Connections {
				planted += len(w.SSHKeepalives) + len(w.TCPKeepalives)
				g, ok := got[w.Client+" "+w.Server]
				if !ok {
					t.Errorf("%s > %s: not reported", w.Client, w.Server)
					continue
				}
				var diffs []string
				check := func(what string, got, want any) {
					if fmt.Sprint(got) != fmt.Sprint(want) {
						diffs = append(diffs, fmt.Sprintf("%s: got %v, planted %v", what, got, want))
					}
				}
				check("ssh", probesOf(g.SSHKeepalives), truthProbes(w.SSHKeepalives))
				check("tcp", probesOf(g.TCPKeepalives), truthProbes(w.TCPKeepalives))
				check("end", g.End.How+" "+g.End.By, w.End.How+" "+w.End.By)
				check("packets", g.Packets, w.Packets)
				check("banners", g.ClientBanner+" | "+g.ServerBanner, w.ClientBanner+" | "+w.ServerBanner)
				if g.Cipher == nil {
					diffs = append(diffs, "cipher not negotiated")
				} else {
					check("cipher", *g.Cipher, JSONCipherOf(w.Cipher))
				}
				check("ServerAliveInterval", intOrNil(g.Inferred.ServerAliveInterval), intOrNil(w.Inferred.ServerAliveInterval))
				check("ClientAliveInterval", intOrNil(g.Inferred.ClientAliveInterval), intOrNil(w.Inferred.ClientAliveInterval))
				if len(diffs) > 0 {
					t.Errorf("%s > %s (%s):\n  %s", w.Client, w.Server, strings.Join(w.Story, "; "), strings.Join(diffs, "\n  "))
				}
			}
			if planted < 10 {
				t.Errorf("only %d keepalive entries planted: the generator is not exercising the analyser", planted)
			}
		})
	}
}

// JSONCipherOf converts the truth's cipher names to sshalive's record.
func JSONCipherOf(c TruthCipher) report.JSONCipher {
	return report.JSONCipher{ClientToServer: c.ClientToServer, ServerToClient: c.ServerToClient}
}

// TestDeterministic: the same flags give the same bytes.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		p := filepath.Join(dir, fmt.Sprint(i, ".pcap"))
		if err := generate(options{out: p, conns: 20, duration: 5 * time.Minute, seed: 9, synflood: 100, ipv6: 0.1}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = b
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two runs with the same seed differ")
	}
}
