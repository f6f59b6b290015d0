package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

var queueWriteMetricNames = []string{"entrabridge_queue_writes_total", "entrabridge_queue_write_round_trips_total"}

func TestQueueWritesExported(t *testing.T) {
	tests := []struct {
		name               string
		watch              func() redisstore.QueueWrites
		writes, roundTrips string
	}{
		{"not watched", nil, "0", "0"},
		{"watched", func() redisstore.QueueWrites { return redisstore.QueueWrites{Writes: 30, RoundTrips: 4} }, "30", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			if tt.watch != nil {
				m.WatchQueueWrites(tt.watch)
			}

			want := `
# HELP entrabridge_queue_write_round_trips_total Redis round trips that carried the queue writes. Concurrent writes share one pipeline.
# TYPE entrabridge_queue_write_round_trips_total counter
entrabridge_queue_write_round_trips_total ` + tt.roundTrips + `
# HELP entrabridge_queue_writes_total Queue writes of one command this process sent to Redis, such as one per webhook request, whether or not Redis stored them.
# TYPE entrabridge_queue_writes_total counter
entrabridge_queue_writes_total ` + tt.writes + `
`
			if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), queueWriteMetricNames...); err != nil {
				t.Error(err)
			}
		})
	}
}
