package redisstore

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Reserve takes one token from the rate limiter name, shared by every
// replica, that allows perSecond requests per second with bursts of up to
// burst, and returns how long the caller must wait before using it (0 means
// now). The token is taken even when a wait is returned, so a caller that
// gives up still counts against the rate. perSecond ≤ 0 means unlimited
// and returns 0 without contacting Redis; burst below 1 counts as 1.
func (s *Store) Reserve(ctx context.Context, name string, perSecond float64, burst int) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	burst = max(burst, 1)
	// The emission interval in whole µs. Rounding moves each interval by
	// at most 0.5 µs, which is under 0.05 % for rates up to 1,000/s;
	// rates above 1,000,000/s become 1,000,000/s.
	interval := max(int64(math.Round(1e6/perSecond)), 1)
	waitUS, err := reserveScript.Run(ctx, s.rdb, []string{s.keys.rate(name)}, interval, burst).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: reserve from rate limit %s: %w", name, err)
	}
	return time.Duration(waitUS) * time.Microsecond, nil
}
