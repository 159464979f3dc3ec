package main

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sshalive/sshalive/capture"
)

// totals are the running counts the tracker and the capture keep: the
// capture loop reads them (the tracker is not safe for other goroutines)
// and hands a copy to the collector.
type totals struct {
	open              int
	segments, evicted int64
	capture           capture.LiveStats
	captureKnown      bool // the capture's counters could be read
}

// totalsCollector exposes the latest totals at each scrape: the running
// counts as counters (their value is the count itself, so no delta is
// kept or lost), and, for existing queries, the same counts under their
// deprecated gauge names.
type totalsCollector struct {
	mu sync.Mutex
	v  totals

	tracked, segments, evicted, received, dropped *prometheus.Desc
	// deprecated gauges
	oldSegments, oldEvicted, oldCapture *prometheus.Desc
}

func newTotalsCollector() *totalsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &totalsCollector{
		tracked:  d("sshalive_connections_tracked", "Connections tracked now."),
		segments: d("sshalive_tcp_segments_total", "TCP segments analysed."),
		evicted:  d("sshalive_connections_evicted_total", "Connections summarised early because the table was full (--max-conns)."),
		received: d("sshalive_capture_received_packets_total", "Packets the capture's filter passed (libpcap's received count)."),
		dropped: d("sshalive_capture_dropped_packets_total",
			"Packets the capture lost, by where: dropped_by kernel (the capture buffer was full) or interface (the interface or its driver).", "dropped_by"),
		oldSegments: d("sshalive_tcp_segments", "Deprecated: use sshalive_tcp_segments_total. TCP segments analysed."),
		oldEvicted:  d("sshalive_connections_evicted", "Deprecated: use sshalive_connections_evicted_total. Connections summarised early because the table was full (--max-conns)."),
		oldCapture: d("sshalive_capture_packets",
			"Deprecated: use sshalive_capture_received_packets_total and sshalive_capture_dropped_packets_total. libpcap's counters: received by the filter, dropped by the kernel, dropped by the interface.", "counter"),
	}
}

// set records the totals as they stand now.
func (c *totalsCollector) set(v totals) {
	c.mu.Lock()
	c.v = v
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *totalsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tracked, c.segments, c.evicted, c.received, c.dropped, c.oldSegments, c.oldEvicted, c.oldCapture} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one consistent copy of the
// totals per scrape.
func (c *totalsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	v := c.v
	c.mu.Unlock()
	m := func(d *prometheus.Desc, t prometheus.ValueType, n int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, float64(n), labels...)
	}
	m(c.tracked, prometheus.GaugeValue, int64(v.open))
	m(c.segments, prometheus.CounterValue, v.segments)
	m(c.evicted, prometheus.CounterValue, v.evicted)
	m(c.oldSegments, prometheus.GaugeValue, v.segments)
	m(c.oldEvicted, prometheus.GaugeValue, v.evicted)
	if !v.captureKnown {
		return
	}
	st := v.capture
	m(c.received, prometheus.CounterValue, st.Received)
	m(c.dropped, prometheus.CounterValue, st.KernelDropped, "kernel")
	m(c.dropped, prometheus.CounterValue, st.IfDropped, "interface")
	m(c.oldCapture, prometheus.GaugeValue, st.Received, "received")
	m(c.oldCapture, prometheus.GaugeValue, st.KernelDropped, "dropped_by_kernel")
	m(c.oldCapture, prometheus.GaugeValue, st.IfDropped, "dropped_by_interface")
}
