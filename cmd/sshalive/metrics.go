package main

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/sshalive/sshalive/analyze"
)

// metricsServer exports what a live capture sees, for fleets of jump hosts:
// Prometheus aggregates, sshalive stays a sensor. No label carries an
// address, a port or text from the wire: every label value comes from a
// fixed set, so the series a sensor exports are a fixed number (cardinality).
//
// The metric names are a contract (README): names are only added. Those a
// newer metric replaces say so in their help text ("Deprecated:").
type metricsServer struct {
	reg  *prometheus.Registry
	srv  *http.Server
	addr net.Addr // where it listens

	// deprecated: sent and answered without the implementation
	probes   *prometheus.CounterVec
	answered *prometheus.CounterVec
	interval *prometheus.HistogramVec
	ended    *prometheus.CounterVec
	// by layer, sender and the sender's implementation
	sent       *prometheus.CounterVec
	replied    *prometheus.CounterVec
	unanswered *prometheus.CounterVec
	totals     *totalsCollector
}

// metricsConns bounds the metrics server's connections (and requests in
// flight).
const metricsConns = 8

// metricsLimits bound the metrics server in time: a slow or flooding
// client cannot hold the process's memory or sockets. Tests shorten them.
type metricsLimits struct {
	readHeader, read, write, idle, handler time.Duration
}

func defaultMetricsLimits() metricsLimits {
	return metricsLimits{readHeader: 5 * time.Second, read: 10 * time.Second, write: 10 * time.Second,
		idle: 30 * time.Second, handler: 5 * time.Second}
}

// Label values. The implementation is the family of the SSH software
// that sent the probes, from its banner: one of analyze's Impl names,
// "other" for any other banner (never the banner's text: the wire is
// not trusted to choose label values) or "unknown" when the banner was
// not captured.
const (
	implOther   = "other"
	implUnknown = "unknown"
)

func implementationLabels() []string {
	return []string{analyze.ImplOpenSSH, analyze.ImplPuTTY, analyze.ImplDropbear, analyze.ImplParamiko,
		analyze.ImplAsyncSSH, analyze.ImplGo, analyze.ImplLibssh, analyze.ImplLibssh2, implOther, implUnknown}
}

// implementationLabel maps an analyze.Implementation name to its label.
func implementationLabel(name string) string {
	switch name {
	case analyze.ImplOpenSSH, analyze.ImplPuTTY, analyze.ImplDropbear, analyze.ImplParamiko,
		analyze.ImplAsyncSSH, analyze.ImplGo, analyze.ImplLibssh, analyze.ImplLibssh2:
		return name
	case "":
		return implUnknown
	}
	return implOther
}

// endHows are the values of analyze.End.How.
func endHows() []string { return []string{"fin", "rst", "open"} }

// endCauses are the values of the cause label: analyze.Cause's names,
// as --json's end.cause.
func endCauses() []string {
	var cs []string
	for c := analyze.CauseUnknown; c <= analyze.CauseServerEnded; c++ {
		cs = append(cs, c.String())
	}
	return cs
}

func startMetrics(addr string) (*metricsServer, error) {
	m := newMetricsServer()
	if err := m.listen(addr, defaultMetricsLimits()); err != nil {
		return nil, err
	}
	return m, nil
}

// newMetricsServer makes the collectors and their registry.
func newMetricsServer() *metricsServer {
	kaLabels, implLabels := []string{"layer", "sender"}, []string{"layer", "sender", "implementation"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metricsServer{
		probes: counter("sshalive_keepalive_probes_total",
			"Deprecated: use sshalive_keepalive_probes_sent_total. Keepalive probes of ended connections, by layer (ssh, tcp) and sender (client, server).", kaLabels),
		answered: counter("sshalive_keepalive_answered_total",
			"Deprecated: use sshalive_keepalive_probes_answered_total. Answered keepalive probes of ended connections.", kaLabels),
		interval: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sshalive_keepalive_interval_seconds",
			Help:    "Keepalive period (period_s) of each ended connection that had two or more probes.",
			Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 240, 300, 600, 1200, 3600, 7200}}, kaLabels),
		ended: counter("sshalive_connections_ended_total",
			"Connections summarised, by how they ended (fin, rst, open = idle or evicted) and why (cause, as --json's end.cause).", []string{"how", "cause"}),
		sent: counter("sshalive_keepalive_probes_sent_total",
			"Keepalive probes of ended connections, by layer (ssh, tcp), sender (client, server) and the sender's SSH implementation.", implLabels),
		replied: counter("sshalive_keepalive_probes_answered_total",
			"Keepalive probes of ended connections that were answered.", implLabels),
		unanswered: counter("sshalive_keepalive_probes_unanswered_total",
			"Keepalive probes of ended connections that asked for a reply and got none (not counting those sent just before the capture ended).", implLabels),
		totals: newTotalsCollector(),
	}
	// Every series exists from the start, at 0: an alert on increase()
	// sees the first event, and the number of series is fixed.
	for _, how := range endHows() {
		for _, cause := range endCauses() {
			m.ended.WithLabelValues(how, cause)
		}
	}
	for _, layer := range []string{"ssh", "tcp"} {
		for _, sender := range []string{analyze.Client.String(), analyze.Server.String()} {
			for _, impl := range implementationLabels() {
				m.sent.WithLabelValues(layer, sender, impl)
				m.replied.WithLabelValues(layer, sender, impl)
				m.unanswered.WithLabelValues(layer, sender, impl)
			}
		}
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sshalive_build_info", Help: "Version of sshalive."}, []string{"version", "goversion"})
	build.WithLabelValues(versionString(), runtime.Version()).Set(1)
	m.reg = prometheus.NewRegistry()
	m.reg.MustRegister(m.probes, m.answered, m.interval, m.ended, m.sent, m.replied, m.unanswered, m.totals, build)
	return m
}

// listen serves /metrics on addr within lim.
func (m *metricsServer) listen(addr string, lim metricsLimits) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	m.addr = ln.Addr()
	// A sensor on a bastion answers a scraper, not the world: a few
	// connections at once, each bounded in time and header size, so a
	// slow or flooding client cannot hold the process's memory or sockets.
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: metricsConns, Timeout: lim.handler}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: lim.readHeader, ReadTimeout: lim.read,
		WriteTimeout: lim.write, IdleTimeout: lim.idle, MaxHeaderBytes: 8 << 10}
	go m.srv.Serve(netutil.LimitListener(ln, metricsConns))
	return nil
}

// countEnded counts connections that ended. It and update run in the
// capture loop; the collectors are safe for the scraping goroutine.
func (m *metricsServer) countEnded(cs []analyze.Conn) {
	for _, c := range cs {
		m.ended.WithLabelValues(c.End.How, c.End.Cause.String()).Inc()
		for _, k := range c.SSH {
			m.observe("ssh", c.Implementations, k)
		}
		for _, k := range c.TCP {
			m.observe("tcp", c.Implementations, k)
		}
	}
}

func (m *metricsServer) observe(layer string, impls [2]analyze.Implementation, k analyze.Keepalives) {
	sender, impl := k.Sender.String(), implementationLabel(impls[k.Sender].Name)
	m.probes.WithLabelValues(layer, sender).Add(float64(k.Probes))
	m.answered.WithLabelValues(layer, sender).Add(float64(k.Answered))
	m.sent.WithLabelValues(layer, sender, impl).Add(float64(k.Probes))
	m.replied.WithLabelValues(layer, sender, impl).Add(float64(k.Answered))
	m.unanswered.WithLabelValues(layer, sender, impl).Add(float64(unanswered(k)))
	if k.Interval.N > 0 {
		m.interval.WithLabelValues(layer, sender).Observe(k.Every().Seconds())
	}
}

// unanswered counts the probes that asked for a reply and got none: each
// such probe is answered, pending (sent just before the capture ended)
// or unanswered.
func unanswered(k analyze.Keepalives) int {
	if !k.Message.ReplyExpected() {
		return 0
	}
	return max(0, k.Probes-k.Answered-k.Pending)
}

func (m *metricsServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m.srv.Shutdown(ctx)
}
