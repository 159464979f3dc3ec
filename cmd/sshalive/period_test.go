package main

import (
	"strings"
	"testing"
)

// TestTCPKeepalivePeriod: a client's TCP keepalives over a 600 ms RTT path
// into a blackhole (lab scenario tcpka-rtt300-blackhole, tcp_keepalive_time 3,
// intvl 1, probes 3). Two probes were answered, 3.36 and 3.33 s apart on the
// wire (tshark); three went unanswered, retried 1.02 s apart. The period is
// the answered spacing, not the median of all gaps (2.18 s), which mixes in
// the retries: at the kernel's defaults (7200 s, retries 75 s) the mix would
// claim keepalives every 75 s and hide every middlebox that drops the idle
// session.
func TestTCPKeepalivePeriod(t *testing.T) {
	const file = "../../testdata/pcaps/tcpka-rtt300-blackhole.pcap"
	out, _, rc := sshalive(t, "--json", "-r", file)
	if rc != 0 {
		t.Fatalf("exit %d", rc)
	}
	conns := connRecords(t, out)
	if len(conns) != 1 || conns[0].Risk.EffectiveKeepalive == nil {
		t.Fatalf("want one connection with an effective keepalive, got %d", len(conns))
	}
	// wire: 3.33 and 3.36 s; median 3.345 ± 0.01 s rounding
	if got := *conns[0].Risk.EffectiveKeepalive; got < 3.33 || got > 3.36 {
		t.Errorf("effective keepalive %.3f s, want 3.33–3.36 s (the answered spacing)", got)
	}
	text, _, _ := sshalive(t, "-r", file)
	if !strings.Contains(text, "sends TCP keepalives every 3.34 s, unanswered ones retried every 1.02 s") {
		t.Errorf("summary should give the period and the retry spacing:\n%s", text)
	}
}
