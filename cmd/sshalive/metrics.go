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
	"github.com/sshalive/sshalive/capture"
)

// metricsServer exports what a live capture sees, for fleets of jump hosts:
// Prometheus aggregates, sshalive stays a sensor. No label carries an
// address or port (cardinality).
type metricsServer struct {
	srv *http.Server

	probes    *prometheus.CounterVec
	answered  *prometheus.CounterVec
	interval  *prometheus.HistogramVec
	ended     *prometheus.CounterVec
	open      prometheus.Gauge
	evictions prometheus.Gauge
	packets   prometheus.Gauge
	dropped   *prometheus.GaugeVec
}

// metricsConns bounds the metrics server's connections (and requests in
// flight).
const metricsConns = 8

func startMetrics(addr string) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	m := &metricsServer{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sshalive_keepalive_probes_total",
			Help: "Keepalive probes of ended connections, by layer (ssh, tcp) and sender (client, server)."}, []string{"layer", "sender"}),
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sshalive_keepalive_answered_total",
			Help: "Answered keepalive probes of ended connections."}, []string{"layer", "sender"}),
		interval: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sshalive_keepalive_interval_seconds",
			Help:    "Keepalive period (period_s) of each ended connection that had two or more probes.",
			Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 240, 300, 600, 1200, 3600, 7200}}, []string{"layer", "sender"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sshalive_connections_ended_total",
			Help: "Connections summarised, by how they ended (fin, rst, open = idle or evicted)."}, []string{"how"}),
		open:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "sshalive_connections_tracked", Help: "Connections tracked now."}),
		evictions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sshalive_connections_evicted", Help: "Connections summarised early because the table was full (--max-conns)."}),
		packets:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "sshalive_tcp_segments", Help: "TCP segments analysed."}),
		dropped: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sshalive_capture_packets",
			Help: "libpcap's counters: received by the filter, dropped by the kernel, dropped by the interface."}, []string{"counter"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sshalive_build_info", Help: "Version of sshalive."}, []string{"version", "goversion"})
	build.WithLabelValues(versionString(), runtime.Version()).Set(1)
	reg.MustRegister(m.probes, m.answered, m.interval, m.ended, m.open, m.evictions, m.packets, m.dropped, build)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	// A sensor on a bastion answers a scraper, not the world: a few
	// connections at once, each bounded in time and header size, so a
	// slow or flooding client cannot hold the process's memory or sockets.
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{MaxRequestsInFlight: metricsConns, Timeout: 5 * time.Second}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 8 << 10}
	go m.srv.Serve(netutil.LimitListener(ln, metricsConns))
	return m, nil
}

// countEnded counts connections that ended. It and update run in the
// capture loop; the collectors are safe for the scraping goroutine.
func (m *metricsServer) countEnded(cs []analyze.Conn) {
	for _, c := range cs {
		m.ended.WithLabelValues(c.End.How).Inc()
		for _, k := range c.SSH {
			m.observe("ssh", k)
		}
		for _, k := range c.TCP {
			m.observe("tcp", k)
		}
	}
}

// update sets the gauges.
func (m *metricsServer) update(t *analyze.Tracker, live *capture.Live) {
	segs, evicted := t.Counters()
	m.open.Set(float64(t.Open()))
	m.evictions.Set(float64(evicted))
	m.packets.Set(float64(segs))
	if st, err := live.Stats(); err == nil {
		m.dropped.WithLabelValues("received").Set(float64(st.Received))
		m.dropped.WithLabelValues("dropped_by_kernel").Set(float64(st.KernelDropped))
		m.dropped.WithLabelValues("dropped_by_interface").Set(float64(st.IfDropped))
	}
}

func (m *metricsServer) observe(layer string, k analyze.Keepalives) {
	sender := k.Sender.String()
	m.probes.WithLabelValues(layer, sender).Add(float64(k.Probes))
	m.answered.WithLabelValues(layer, sender).Add(float64(k.Answered))
	if k.Interval.N > 0 {
		m.interval.WithLabelValues(layer, sender).Observe(k.Every().Seconds())
	}
}

func (m *metricsServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m.srv.Shutdown(ctx)
}
