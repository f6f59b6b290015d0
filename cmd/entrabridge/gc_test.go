package main

import (
	"runtime/debug"
	"testing"
)

func TestSetServeGCPercent(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"GOGC unset", map[string]string{}, serveGCPercent},
		{"GOGC set", map[string]string{"GOGC": "50"}, 75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 75 stands for what the runtime applied from GOGC at start.
			previous := debug.SetGCPercent(75)
			t.Cleanup(func() { debug.SetGCPercent(previous) })

			setServeGCPercent(tt.env)

			if got := debug.SetGCPercent(75); got != tt.want {
				t.Errorf("GC percent: got %d, want %d", got, tt.want)
			}
		})
	}
}
