//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sshalive/sshalive/report"
)

// TestLiveFanout: six SSH sessions at once, each with its client's
// keepalives every second, captured by two sshalive on lo at the same
// time: one reading 4 sockets of a fanout group, one a single socket. Each
// connection must come out of the fanout alike (its keepalives all
// answered: both directions reached one socket and one Tracker), and the
// same as the single socket saw it, with as many packets in all.
func TestLiveFanout(t *testing.T) {
	n := newLabNS(t, nil, nil)
	fan, fanOut, fanErr := n.sshalive("-i", "lo", "--fanout", "4", "--duration", "11s", "--json")
	one, oneOut, oneErr := n.sshalive("-i", "lo", "--fanout", "1", "--duration", "11s", "--json")
	var sessions []*exec.Cmd
	for i := range 6 {
		c := n.ssh([]string{"-o", "ServerAliveInterval=1"}, fmt.Sprintf("sleep %d", 3+i%3))
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, c)
	}
	for _, c := range sessions {
		if err := c.Wait(); err != nil {
			t.Fatalf("ssh: %v", err)
		}
	}
	if code := waitExit(t, fan, 25*time.Second); code != exitOK {
		t.Fatalf("--fanout 4: exit %d: %s", code, fanErr)
	}
	if code := waitExit(t, one, 25*time.Second); code != exitOK {
		t.Fatalf("--fanout 1: exit %d: %s", code, oneErr)
	}
	if !strings.Contains(fanErr.String(), "4 sockets in a fanout group") {
		t.Errorf("stderr does not say the sockets: %s", fanErr)
	}
	byClient := func(out string) map[string]string {
		m := map[string]string{}
		for _, c := range connRecords(t, out) {
			if len(c.SSHKeepalives) != 1 {
				t.Errorf("%s: keepalives %+v, want the client's", c.Client, c.SSHKeepalives)
				continue
			}
			k := c.SSHKeepalives[0]
			if k.Sender != "client" || k.Probes < 2 || k.Answered != k.Probes {
				t.Errorf("%s: %+v, want the client's, all answered", c.Client, k)
			}
			m[c.Client] = fmt.Sprintf("probes %d answered %d bytes %d/%d, end %s %s", k.Probes, k.Answered, k.ProbeBytes, k.ReplyBytes, c.End.How, c.End.Cause)
		}
		return m
	}
	got, want := byClient(fanOut.String()), byClient(oneOut.String())
	if len(got) != 6 || fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("--fanout 4 saw %d connections:\n%v\none socket saw:\n%v", len(got), sorted(got), sorted(want))
	}
	if a, b := summaryOf(t, fanOut.String()).Packets, summaryOf(t, oneOut.String()).Packets; a != b || a == 0 {
		t.Errorf("--fanout 4 read %d packets, one socket %d", a, b)
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+": "+v)
	}
	sort.Strings(out)
	return out
}

// summaryOf is the summary record that ends --json output.
func summaryOf(t *testing.T, out string) report.JSONSummary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s report.JSONSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatal(err)
	}
	return s
}
