package main

import (
	"os"
	"testing"
)

func TestResidentBytesOfSelf(t *testing.T) {
	rss, err := residentBytes(os.Getpid())
	if err != nil {
		t.Fatalf("residentBytes: got error %v, want nil", err)
	}
	// Any Go test binary holds more than a megabyte once running.
	if rss < 1<<20 {
		t.Errorf("VmRSS: got %d bytes, want at least 1 MiB", rss)
	}
}

func TestCPUTimeOfSelf(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatalf("cpuTime: got error %v, want nil", err)
	}
	spin := 0
	for i := range 200_000_000 {
		spin += i
	}
	after, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatalf("cpuTime: got error %v, want nil", err)
	}

	if after <= before {
		t.Errorf("CPU time after a busy loop (sum %d): got %s, want more than %s", spin, after, before)
	}
}

func TestProcessFilesOfMissingProcess(t *testing.T) {
	// PIDs are at most 2^22 on Linux, so this one cannot exist.
	const missing = 1 << 23
	if _, err := residentBytes(missing); err == nil {
		t.Error("residentBytes of a missing process: got nil error, want one")
	}
	if _, err := cpuTime(missing); err == nil {
		t.Error("cpuTime of a missing process: got nil error, want one")
	}
}
