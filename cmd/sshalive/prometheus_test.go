//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshalive/sshalive/report"
)

// promAPI is the answer of Prometheus's HTTP API (/api/v1/...).
type promAPI struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Data   json.RawMessage `json:"data"`
}

// promSample is one element of an instant query's vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// get fetches http://127.0.0.1:port+path inside the namespace (bash's
// /dev/tcp: nothing to install) and returns the body.
func (n *labNS) get(port int, path string) ([]byte, error) {
	out, err := n.in("bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3; timeout 5 cat <&3`, "get", strconv.Itoa(port), path).Output()
	if err != nil {
		return nil, err
	}
	_, body, ok := bytes.Cut(out, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("no HTTP response: %q", out)
	}
	return body, nil
}

// prometheus runs the real Prometheus server in the namespace, scraping
// the sshalive at metricsPort every second and evaluating rules, and
// returns once it answers.
func (n *labNS) prometheus(metricsPort, port int, rules string) *exec.Cmd {
	n.t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		n.t.Fatalf("prometheus not installed (make test installs it): %v", err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: sshalive
    static_configs:
      - targets: ['127.0.0.1:%d']
`, rules, metricsPort)
	cfgPath := filepath.Join(n.dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		n.t.Fatal(err)
	}
	cmd := n.in(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(n.dir, "tsdb"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--log.level=warn")
	cmd.Stderr = &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; ; i++ { // until it is ready; bounded
		if body, err := n.get(port, "/-/ready"); err == nil && bytes.Contains(body, []byte("Ready")) {
			return cmd
		}
		if i == 100 {
			n.t.Fatalf("prometheus not ready after 20 s: %s", cmd.Stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// query runs an instant PromQL query and returns its vector.
func (n *labNS) query(port int, q string) ([]promSample, error) {
	body, err := n.get(port, "/api/v1/query?query="+url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	var r promAPI
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		return nil, fmt.Errorf("query %s: %v %s: %s", q, err, r.Error, body)
	}
	var d struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || d.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: %v: %s", q, err, r.Data)
	}
	return d.Result, nil
}

// scalar runs a query whose answer is one sample, and returns its value.
func (n *labNS) scalar(port int, q string) (float64, error) {
	v, err := n.query(port, q)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("query %s: %d samples, want 1: %+v", q, len(v), v)
	}
	s, _ := v[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// waitFor polls q until cond holds (bounded) and returns the last value.
func (n *labNS) waitFor(port int, q string, cond func(float64) bool, limit time.Duration) float64 {
	n.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		v, err := n.scalar(port, q)
		if err == nil && cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: %v (%v) after %v", q, v, err, limit)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestLivePrometheus: the real Prometheus server scrapes a live sshalive
// while an OpenSSH session with ServerAliveInterval=1 comes and goes; what
// PromQL answers equals what the same run's --json reports, exactly, and
// the example alert rules load healthy.
func TestLivePrometheus(t *testing.T) {
	n := newLabNS(t, nil, nil)
	rules, err := filepath.Abs("../../packaging/prometheus/sshalive-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules (make test installs prometheus): %v\n%s", err, out)
	}
	const metricsPort, promPort = 9273, 9090
	cmd, stdout, stderr := n.sshalive("-i", "lo", "--json", "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", metricsPort))
	defer cmd.Process.Kill() // on a failure before the SIGINT below
	n.prometheus(metricsPort, promPort, rules)
	n.waitFor(promPort, `up{job="sshalive"}`, func(v float64) bool { return v == 1 }, 20*time.Second)

	if out, err := n.ssh([]string{"-o", "ServerAliveInterval=1", "-o", "Ciphers=chacha20-poly1305@openssh.com"}, "sleep 5").CombinedOutput(); err != nil {
		t.Fatalf("ssh: %v %s", err, out)
	}
	// the connection is counted when it has ended; no segment on port 22
	// follows, so once Prometheus has it the counts stand still
	n.waitFor(promPort, `sum(sshalive_connections_ended_total)`, func(v float64) bool { return v >= 1 }, 20*time.Second)
	time.Sleep(2500 * time.Millisecond) // two more scrapes: the totals of the last update
	got := map[string]float64{}
	for _, q := range []string{
		`sum(sshalive_keepalive_probes_total{layer="ssh",sender="client"})`,
		`sum(sshalive_keepalive_probes_sent_total{layer="ssh",sender="client",implementation="OpenSSH"})`,
		`sum(sshalive_keepalive_probes_sent_total{implementation!="OpenSSH"})`,
		`sum(sshalive_keepalive_probes_answered_total{layer="ssh",sender="client",implementation="OpenSSH"})`,
		`sum(sshalive_keepalive_probes_unanswered_total)`,
		`sum(sshalive_keepalive_probes_sent_total{layer="tcp"})`,
		`sum(sshalive_connections_ended_total)`,
		`sshalive_tcp_segments_total`,
		`sshalive_connections_evicted_total`,
		`sshalive_connections_tracked`,
		`sshalive_capture_received_packets_total`,
		`sum(sshalive_capture_dropped_packets_total)`,
	} {
		v, err := n.scalar(promPort, q)
		if err != nil {
			t.Fatal(err)
		}
		got[q] = v
	}
	ended, err := n.query(promPort, `sshalive_connections_ended_total > 0`)
	if err != nil {
		t.Fatal(err)
	}
	rulesBody, err := n.get(promPort, "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}

	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := oneConn(t, stdout.String())
	if len(c.SSHKeepalives) != 1 || c.SSHKeepalives[0].Sender != "client" || c.SSHKeepalives[0].Probes < 3 || len(c.TCPKeepalives) != 0 {
		t.Fatalf("the session's keepalives: %+v %+v", c.SSHKeepalives, c.TCPKeepalives)
	}
	k := c.SSHKeepalives[0]
	sum := summaryRecord(t, stdout.String())
	if sum.Capture == nil {
		t.Fatalf("no capture counters in the summary: %s", stdout)
	}
	want := map[string]float64{
		`sum(sshalive_keepalive_probes_total{layer="ssh",sender="client"})`:                                   float64(k.Probes),
		`sum(sshalive_keepalive_probes_sent_total{layer="ssh",sender="client",implementation="OpenSSH"})`:     float64(k.Probes),
		`sum(sshalive_keepalive_probes_sent_total{implementation!="OpenSSH"})`:                                0,
		`sum(sshalive_keepalive_probes_answered_total{layer="ssh",sender="client",implementation="OpenSSH"})`: float64(k.Answered),
		`sum(sshalive_keepalive_probes_unanswered_total)`:                                                     float64(k.Probes - k.Answered - k.Pending),
		`sum(sshalive_keepalive_probes_sent_total{layer="tcp"})`:                                              0,
		`sum(sshalive_connections_ended_total)`:                                                               1,
		`sshalive_tcp_segments_total`:                                                                         float64(sum.TCPSegments),
		`sshalive_connections_evicted_total`:                                                                  float64(sum.Evicted),
		`sshalive_connections_tracked`:                                                                        0,
	}
	for q, w := range want {
		if got[q] != w {
			t.Errorf("%s = %v, --json says %v", q, got[q], w)
		}
	}
	t.Logf("--json: %d probes, %d answered, %d pending, end %s/%s, %d segments, capture %+v; PromQL: %v",
		k.Probes, k.Answered, k.Pending, c.End.How, c.End.Cause, sum.TCPSegments, *sum.Capture, got)
	if c.ClientImplementation == nil || c.ClientImplementation.Name != "OpenSSH" {
		t.Errorf("client implementation %+v", c.ClientImplementation)
	}
	if len(ended) != 1 || ended[0].Metric["cause"] != c.End.Cause || ended[0].Metric["how"] != c.End.How || ended[0].Value[1] != "1" {
		t.Errorf("ended series %+v; --json: how %s cause %s", ended, c.End.How, c.End.Cause)
	}
	checkRulesHealthy(t, rulesBody)
}

// summaryRecord decodes the --json summary record (the last line).
func summaryRecord(t *testing.T, out string) report.JSONSummary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s report.JSONSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil || s.Type != "summary" {
		t.Fatalf("summary %v: %s", err, lines[len(lines)-1])
	}
	return s
}

// checkRulesHealthy: /api/v1/rules lists every rule of the file, each
// evaluated without error.
func checkRulesHealthy(t *testing.T, body []byte) {
	t.Helper()
	var r promAPI
	var d struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
				State     string `json:"state"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" || json.Unmarshal(r.Data, &d) != nil {
		t.Fatalf("/api/v1/rules: %v %s", err, body)
	}
	n := 0
	for _, g := range d.Groups {
		for _, rule := range g.Rules {
			n++
			if rule.Health != "ok" || rule.State == "firing" {
				t.Errorf("rule %s/%s: health %q %s, state %s", g.Name, rule.Name, rule.Health, rule.LastError, rule.State)
			}
		}
	}
	if n != 6 {
		t.Errorf("%d rules loaded, want the file's 6: %s", n, body)
	}
}
