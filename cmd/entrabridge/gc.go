package main

import "runtime/debug"

// serveGCPercent is the garbage collector's target for `serve` when GOGC
// is not set: the heap may grow to three times the live heap before a
// collection, where Go's default of 100 allows twice.
//
// The receiver keeps little live data but allocates for every request,
// so at Go's default it collects many times a second under load.
// In paired saturation rounds against a bare XADD handler (see
// docs/benchmarks.md), 200 raised the receiver from 0.81 to 0.91 of the
// bare handler's throughput for single notifications, and its RSS at
// 2,000 requests per second from 40.7 to 44.8 MiB.
const serveGCPercent = 200

// setServeGCPercent applies serveGCPercent unless env sets GOGC, which the
// Go runtime has then applied at start. Set GOMEMLIMIT as well where the
// container has a memory limit, so the collector runs sooner near it.
func setServeGCPercent(env map[string]string) {
	if env["GOGC"] == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
