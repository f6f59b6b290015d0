package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sendFunc sends request i and returns the response status, or 0 when
// no response arrived.
type sendFunc func(ctx context.Context, i int) int

// poster sends notification bodies to one URL.
type poster struct {
	client *http.Client
	url    string
	// body returns the i-th request body.
	body func(i int) []byte
}

// newLoadClient returns a client that keeps up to conns connections open
// to one host, so that the generator reuses connections as Graph does
// instead of measuring TCP setup.
func newLoadClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// post sends the i-th body and returns the response status, or 0 when no
// response arrived.
func (p poster) post(ctx context.Context, i int) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body(i)))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// loadResult is the outcome of one load step.
type loadResult struct {
	dist distribution
	// elapsed runs from the first scheduled request to the last response.
	elapsed time.Duration
	// lag is how far behind its schedule the generator started its most
	// delayed request. A large lag means the generator itself, not the
	// server, was short of CPU.
	lag time.Duration
}

// throughput returns acknowledged requests per second.
func (r loadResult) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.dist.sorted)) / r.elapsed.Seconds()
}

func isAck(status int) bool { return status >= 200 && status < 300 }

// openLoop offers rate requests per second for duration, on a fixed
// schedule that does not wait for responses, and measures each latency
// from the request's scheduled time. A server that stalls therefore
// accumulates the delay of every request queued behind the stall, instead
// of slowing the generator down (coordinated omission). At most
// maxInFlight requests are open at once. A request that waits for a slot
// keeps its scheduled time, and one without a response within timeout of
// that time counts as failed.
func openLoop(ctx context.Context, send sendFunc, rate float64, duration, timeout time.Duration, maxInFlight int) loadResult {
	n := max(int(rate*duration.Seconds()), 1)
	rec := newRecorder(n)
	slots := make(chan struct{}, maxInFlight)
	interval := time.Duration(float64(time.Second) / rate)

	var wg sync.WaitGroup
	var lag time.Duration
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			sleepContext(ctx, wait)
		} else {
			lag = max(lag, -wait)
		}
		wg.Go(func() { sendScheduled(ctx, send, i, at, timeout, slots, rec) })
	}
	wg.Wait()
	return loadResult{dist: rec.summary(), elapsed: time.Since(start), lag: lag}
}

// sendScheduled sends request i, scheduled at at, once a slot is free.
func sendScheduled(ctx context.Context, send sendFunc, i int, at time.Time, timeout time.Duration,
	slots chan struct{}, rec *recorder) {
	ctx, cancel := context.WithDeadline(ctx, at.Add(timeout))
	defer cancel()
	// A request whose deadline passed before it ran fails, even if a slot
	// is free by now.
	if ctx.Err() != nil {
		rec.failure(0)
		return
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		rec.failure(0)
		return
	}
	status := send(ctx, i)
	<-slots
	if isAck(status) {
		rec.success(time.Since(at))
	} else {
		rec.failure(status)
	}
}

// closedLoop runs clients that each send one request after another for
// duration, the saturation throughput of the server.
func closedLoop(ctx context.Context, send sendFunc, clients int, duration, timeout time.Duration) loadResult {
	rec := newRecorder(clients * 1024)
	deadline := time.Now().Add(duration)
	var next atomic.Int64

	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				sendTimed(ctx, send, int(next.Add(1)-1), timeout, rec)
			}
		})
	}
	wg.Wait()
	return loadResult{dist: rec.summary(), elapsed: time.Since(start)}
}

func sendTimed(ctx context.Context, send sendFunc, i int, timeout time.Duration, rec *recorder) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent := time.Now()
	status := send(ctx, i)
	if isAck(status) {
		rec.success(time.Since(sent))
	} else {
		rec.failure(status)
	}
}

func sleepContext(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
