package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where a run took place.
type machine struct {
	date    time.Time
	cpu     string
	cores   int
	kernel  string
	goVer   string
	redis   string
	loadAvg string
}

func describeMachine(ctx context.Context, k *keyspace) machine {
	return machine{
		date:    time.Now().UTC(),
		cpu:     cpuModel(),
		cores:   runtime.NumCPU(),
		kernel:  firstLine("/proc/sys/kernel/osrelease"),
		goVer:   runtime.Version(),
		redis:   k.version(ctx),
		loadAvg: loadAverage(),
	}
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

// loadAverage returns the 1, 5 and 15 minute load averages, which show
// whether other work shared the machine when the run started.
func loadAverage() string {
	fields := strings.Fields(firstLine("/proc/loadavg"))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

func firstLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line)
}

// markdown returns the description as a markdown list.
func (m machine) markdown() string {
	return fmt.Sprintf("- Date: %s\n- CPU: %s, %d logical cores\n- Kernel: Linux %s\n"+
		"- Go: %s\n- Redis: %s\n- Load average at start (1, 5, 15 min): %s\n",
		m.date.Format("2006-01-02 15:04 UTC"), m.cpu, m.cores, m.kernel, m.goVer, m.redis, m.loadAvg)
}
