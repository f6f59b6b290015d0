package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// queueWritesFunc returns a Store's queue write counts, as
// redisstore.Store.QueueWrites does.
type queueWritesFunc func() redisstore.QueueWrites

func (m *Metrics) registerQueueWrites() {
	read := func(count func(redisstore.QueueWrites) uint64) func() float64 {
		return func() float64 {
			f := m.queueWrites.Load()
			if f == nil {
				return 0
			}
			return float64(count((*f)()))
		}
	}
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "queue_writes_total",
			Help:      "Queue writes of one command this process sent to Redis, such as one per webhook request, whether or not Redis stored them.",
		}, read(func(w redisstore.QueueWrites) uint64 { return w.Writes })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "queue_write_round_trips_total",
			Help:      "Redis round trips that carried the queue writes. Concurrent writes share one pipeline.",
		}, read(func(w redisstore.QueueWrites) uint64 { return w.RoundTrips })),
	)
}

// WatchQueueWrites makes every scrape export the counts writes returns as
// entrabridge_queue_writes_total and entrabridge_queue_write_round_trips_total.
// Until it is called, both are 0. A later call replaces the function.
func (m *Metrics) WatchQueueWrites(writes func() redisstore.QueueWrites) {
	f := queueWritesFunc(writes)
	m.queueWrites.Store(&f)
}
