package httpapi

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// The store's metrics (Options.Store).
var (
	descStoreCommits = desc("grace_store_group_commits_total", "Group commits the store's writer made since start (each one transaction, synced before its changes are acknowledged).")
	descStoreChanges = desc("grace_store_changes_total", "Changes (intent writes, records) written in those commits since start.")
	descStoreRecords = desc("grace_store_records_total", "5W1H records written since start.")
	descStoreFailed  = desc("grace_store_failed_batches_total", "Group commits whose transaction failed since start (a full disk, an I/O error): every change in them was refused.")
	descStoreLag     = desc("grace_store_index_lag", "Records written but not yet in the full-text index (search still finds them, more slowly).")
	descStoreBytes   = desc("grace_store_file_bytes", "Size of each of the store's files: db, wal, search, search_wal.", "file")
)

var storeDescs = []*prometheus.Desc{descStoreCommits, descStoreChanges, descStoreRecords, descStoreFailed, descStoreLag, descStoreBytes}

// storeCollector reads the store's figures at each scrape.
type storeCollector struct{ read func() StoreFigures }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range storeDescs {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.read()
	send(ch, descStoreCommits, prometheus.CounterValue, float64(f.GroupCommits))
	send(ch, descStoreChanges, prometheus.CounterValue, float64(f.Changes))
	send(ch, descStoreRecords, prometheus.CounterValue, float64(f.Records))
	send(ch, descStoreFailed, prometheus.CounterValue, float64(f.FailedBatches))
	send(ch, descStoreLag, prometheus.GaugeValue, float64(f.IndexLag))
	names := make([]string, 0, len(f.FileBytes))
	for name := range f.FileBytes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		send(ch, descStoreBytes, prometheus.GaugeValue, float64(f.FileBytes[name]), name)
	}
}
