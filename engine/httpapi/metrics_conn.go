package httpapi

import "github.com/prometheus/client_golang/prometheus"

// The connection cap's metrics (Options.Connections).
var (
	descConnsMax     = desc("grace_http_connections_max", "The most connections the server holds open (api.max_connections).")
	descConnsOpen    = desc("grace_http_connections_open", "Connections the server holds open now.")
	descConnsIdle    = desc("grace_http_connections_idle", "Of those, idle keep-alive connections: at the cap, the longest idle is closed to make room for a new one.")
	descConnsWaiting = desc("grace_http_connections_waiting", "Connections accepted at the cap and waiting for a place, every open one being busy (more may wait in the system's backlog).")
	descConnsEvicted = desc("grace_http_connections_evicted_total", "Idle keep-alive connections closed since start to make room for a new connection at the cap (api.max_connections).")
)

var connDescs = []*prometheus.Desc{descConnsMax, descConnsOpen, descConnsIdle, descConnsWaiting, descConnsEvicted}

// connCollector reads the listener's figures at each scrape.
type connCollector struct{ l *LimitedListener }

func (c connCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range connDescs {
		ch <- d
	}
}

func (c connCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.l.Figures()
	send(ch, descConnsMax, prometheus.GaugeValue, float64(f.Max))
	send(ch, descConnsOpen, prometheus.GaugeValue, float64(f.Open))
	send(ch, descConnsIdle, prometheus.GaugeValue, float64(f.Idle))
	send(ch, descConnsWaiting, prometheus.GaugeValue, float64(f.Waiting))
	send(ch, descConnsEvicted, prometheus.CounterValue, float64(f.Evicted))
}
