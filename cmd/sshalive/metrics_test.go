package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/sshalive/sshalive/analyze"
	"github.com/sshalive/sshalive/capture"
)

// endedConns are two connections as the tracker hands them over: one whose
// client banner is hostile text, one whose server names a known family.
func endedConns() []analyze.Conn {
	ka := func(sender analyze.Role, probes, answered, pending int, msg analyze.Message) analyze.Keepalives {
		return analyze.Keepalives{Sender: sender, Probes: probes, Answered: answered, Pending: pending, Message: msg,
			Interval: analyze.Stats{N: probes - 1, Median: 15 * time.Second}}
	}
	return []analyze.Conn{
		{
			Implementations: [2]analyze.Implementation{{Name: "Evil\"} 1\nsshalive_pwned{x=\"", Version: "1"}, {Name: analyze.ImplOpenSSH}},
			SSH:             []analyze.Keepalives{ka(analyze.Client, 5, 2, 1, analyze.MsgGlobalRequest), ka(analyze.Client, 3, 0, 0, analyze.MsgIgnore)},
			End:             analyze.End{How: "fin", Cause: analyze.CauseKeepaliveTimeout},
		},
		{
			Implementations: [2]analyze.Implementation{{}, {Name: analyze.ImplDropbear}},
			SSH:             []analyze.Keepalives{ka(analyze.Server, 4, 4, 0, analyze.MsgChannelRequest)},
			TCP:             []analyze.Keepalives{ka(analyze.Client, 2, 1, 0, analyze.MsgUnknown)},
			End:             analyze.End{How: "rst", Cause: analyze.CauseIdleDrop},
		},
	}
}

// TestMetricsValues: the counts of two ended connections and of the
// tracker and capture, as a scrape shows them, under the new names and the
// deprecated ones; a banner's text never becomes a label value.
func TestMetricsValues(t *testing.T) {
	m := newMetricsServer()
	m.countEnded(endedConns())
	m.totals.set(totals{open: 3, segments: 1234, evicted: 2, captureKnown: true,
		capture: capture.LiveStats{Received: 2000, KernelDropped: 7, IfDropped: 1}})
	got := scrapeText(t, m)
	for _, want := range []string{
		`sshalive_keepalive_probes_sent_total{implementation="other",layer="ssh",sender="client"} 8`,
		`sshalive_keepalive_probes_answered_total{implementation="other",layer="ssh",sender="client"} 2`,
		// 5 asking for a reply: 2 answered, 1 pending; the 3 SSH_MSG_IGNORE ask for none
		`sshalive_keepalive_probes_unanswered_total{implementation="other",layer="ssh",sender="client"} 2`,
		`sshalive_keepalive_probes_sent_total{implementation="Dropbear",layer="ssh",sender="server"} 4`,
		`sshalive_keepalive_probes_unanswered_total{implementation="Dropbear",layer="ssh",sender="server"} 0`,
		`sshalive_keepalive_probes_sent_total{implementation="unknown",layer="tcp",sender="client"} 2`,
		`sshalive_keepalive_probes_unanswered_total{implementation="unknown",layer="tcp",sender="client"} 1`,
		`sshalive_keepalive_probes_sent_total{implementation="OpenSSH",layer="ssh",sender="client"} 0`,
		`sshalive_keepalive_probes_total{layer="ssh",sender="client"} 8`,
		`sshalive_keepalive_answered_total{layer="tcp",sender="client"} 1`,
		`sshalive_connections_ended_total{cause="keepalive-timeout",how="fin"} 1`,
		`sshalive_connections_ended_total{cause="idle-drop",how="rst"} 1`,
		`sshalive_connections_ended_total{cause="user-exit",how="fin"} 0`,
		"sshalive_connections_tracked 3",
		"sshalive_tcp_segments_total 1234", "sshalive_tcp_segments 1234",
		"sshalive_connections_evicted_total 2", "sshalive_connections_evicted 2",
		"sshalive_capture_received_packets_total 2000",
		`sshalive_capture_dropped_packets_total{dropped_by="kernel"} 7`,
		`sshalive_capture_dropped_packets_total{dropped_by="interface"} 1`,
		`sshalive_capture_packets{counter="dropped_by_kernel"} 7`,
		"# TYPE sshalive_tcp_segments_total counter", "# TYPE sshalive_tcp_segments gauge",
		"# HELP sshalive_tcp_segments Deprecated: use sshalive_tcp_segments_total.",
	} {
		if !strings.Contains(got, want+"\n") && !strings.Contains(got, want+" ") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(got, "Evil") || strings.Contains(got, "pwned") {
		t.Errorf("banner text in the metrics:\n%s", got)
	}
}

// TestMetricsLabels: every label value comes from a fixed set, whatever
// the wire said, and the number of series is the one the README states.
func TestMetricsLabels(t *testing.T) {
	m := newMetricsServer()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if n := countSeries(fams); n != 156 {
		t.Errorf("%d series before any connection, want 156", n)
	}
	// every layer and sender in the histogram and the deprecated counters
	for _, layer := range []string{"ssh", "tcp"} {
		for _, sender := range []analyze.Role{analyze.Client, analyze.Server} {
			k := analyze.Keepalives{Sender: sender, Probes: 2, Interval: analyze.Stats{N: 1, Median: time.Second}}
			m.observe(layer, [2]analyze.Implementation{{Name: "x"}, {Name: "y"}}, k)
		}
	}
	m.countEnded(endedConns())
	m.totals.set(totals{captureKnown: true})
	if fams, err = m.reg.Gather(); err != nil {
		t.Fatal(err)
	}
	// 30 ended (how × cause), 3 × 40 keepalive counters (layer × sender ×
	// implementation), 2 × 4 deprecated keepalive counters, 4 × 18
	// histogram series (16 buckets, sum, count), 11 totals, build_info
	if n := countSeries(fams); n != 242 {
		t.Errorf("%d series, want 242", n)
	}
	allowed := map[string][]string{
		"layer": {"ssh", "tcp"}, "sender": {"client", "server"}, "implementation": implementationLabels(),
		"how": endHows(), "cause": endCauses(), "counter": {"received", "dropped_by_kernel", "dropped_by_interface"},
		"dropped_by": {"kernel", "interface"},
	}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if f.GetName() == "sshalive_build_info" {
					continue
				}
				if !slices.Contains(allowed[l.GetName()], l.GetValue()) {
					t.Errorf("%s: label %s=%q outside its set", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	// the Prometheus naming guide, as client_golang's linter checks it
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func countSeries(fams []*dto.MetricFamily) int {
	n := 0
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			n++
			if h := s.GetHistogram(); h != nil {
				n += len(h.GetBucket()) + 2 // the +Inf bucket and _sum; _count is the series counted
			}
		}
	}
	return n
}

func TestImplementationLabel(t *testing.T) {
	for name, want := range map[string]string{
		"OpenSSH": "OpenSSH", "PuTTY": "PuTTY", "libssh2": "libssh2", "Go": "Go", "": "unknown",
		"openssh": "other", "WinSCP": "other", "OpenSSH\x00": "other", strings.Repeat("A", 300): "other",
	} {
		if got := implementationLabel(name); got != want {
			t.Errorf("implementationLabel(%q) = %q, want %q", name, got, want)
		}
	}
}

// scrapeText serves m's registry on loopback and scrapes it once.
func scrapeText(t *testing.T, m *metricsServer) string {
	t.Helper()
	return fetchText(t, serveMetricsFor(t, m, defaultMetricsLimits()))
}

func fetchText(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serveMetricsFor serves m on a loopback port within lim and returns its
// URL.
func serveMetricsFor(t *testing.T, m *metricsServer, lim metricsLimits) string {
	t.Helper()
	if err := m.listen("127.0.0.1:0", lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return "http://" + m.addr.String() + "/metrics"
}

// TestMetricsServerLimits: the limits hold against misbehaving clients. An
// idle connection is cut after the header timeout; a client sending its
// headers byte by byte (slow loris) too; no more than metricsConns
// connections are served at once, so extra ones wait, and are served once
// the server has cut the idle ones.
func TestMetricsServerLimits(t *testing.T) {
	// a header timeout well above the scrape attempts below, so a loaded
	// machine does not free a slot before the attempt ends
	lim := metricsLimits{readHeader: time.Second, read: 2 * time.Second, write: 2 * time.Second, idle: 500 * time.Millisecond, handler: time.Second}
	m := newMetricsServer()
	url := serveMetricsFor(t, m, lim)
	addr := m.addr.String()
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedWithin: the server closes c within limit (EOF or a reset, after
	// at most an error response).
	closedWithin := func(c net.Conn, limit time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		c.SetReadDeadline(start.Add(limit))
		_, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection still open after %v", limit)
		}
		return time.Since(start)
	}
	scrape := func(timeout time.Duration) error {
		resp, err := (&http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	// slow loris: a header line every 100 ms never finishes in time
	loris := dial()
	go func() {
		io.WriteString(loris, "GET /metrics HTTP/1.1\r\n")
		for i := 0; i < 30; i++ {
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(loris, "X-A: b\r\n"); err != nil {
				return
			}
		}
	}()
	if d := closedWithin(loris, 5*time.Second); d > 2500*time.Millisecond {
		t.Errorf("slow loris held its connection %v", d)
	}

	// a kept-alive connection that goes quiet is cut after the idle timeout
	idle := dial()
	io.WriteString(idle, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape on a kept-alive connection: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	if d := closedWithin(idle, 3*time.Second); d < 400*time.Millisecond {
		t.Errorf("idle connection cut after %v, before the idle timeout", d)
	}

	// metricsConns+2 connections that send nothing: metricsConns are
	// accepted, the rest wait in the backlog, and so does a scraper
	var conns []net.Conn
	for i := 0; i < metricsConns+2; i++ {
		conns = append(conns, dial())
	}
	time.Sleep(50 * time.Millisecond)
	if err := scrape(300 * time.Millisecond); err == nil {
		t.Errorf("a scrape was served while %d connections held the server", metricsConns+2)
	}
	// the header timeout cuts the first metricsConns, then the other two:
	// every one is closed within a few timeouts, and a scrape succeeds
	for i, c := range conns {
		if d := closedWithin(c, 5*time.Second); d > 3*time.Second {
			t.Errorf("connection %d held %v", i, d)
		}
	}
	if err := scrape(3 * time.Second); err != nil {
		t.Errorf("scrape after the idle connections were cut: %v", err)
	}
}

// TestAlertRules: every metric the example alert rules use is one sshalive
// exports, and promtool (Debian's prometheus package, which make test
// installs) finds the rules valid.
func TestAlertRules(t *testing.T) {
	const path = "../../packaging/prometheus/sshalive-alerts.yml"
	rules, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := newMetricsServer().reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	// metrics created when first seen
	for _, n := range []string{"sshalive_keepalive_probes_total", "sshalive_keepalive_answered_total",
		"sshalive_capture_received_packets_total", "sshalive_capture_dropped_packets_total", "sshalive_capture_packets"} {
		names[n] = true
	}
	used := regexp.MustCompile(`\bsshalive_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) == 0 {
		t.Fatal("the rules use no sshalive metric")
	}
	for _, n := range used {
		if !names[n] {
			t.Errorf("%s uses %s, which sshalive does not export", path, n)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not installed (make test installs the prometheus package): %v", err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

// TestMetricsConcurrentScrape: the capture loop records while scrapes
// read (go test -race finds an unsynchronised read).
func TestMetricsConcurrentScrape(t *testing.T) {
	m := newMetricsServer()
	url := serveMetricsFor(t, m, defaultMetricsLimits())
	done := make(chan bool)
	go func() {
		defer close(done)
		for i := range 200 {
			m.countEnded(endedConns())
			m.totals.set(totals{open: i, segments: int64(i), captureKnown: true})
		}
	}()
	for range 20 {
		fetchText(t, url)
	}
	<-done
	if got := fetchText(t, url); !strings.Contains(got, "sshalive_tcp_segments_total 199\n") ||
		!strings.Contains(got, `sshalive_connections_ended_total{cause="idle-drop",how="rst"} 200`+"\n") {
		t.Errorf("after 200 updates:\n%s", got)
	}
}
