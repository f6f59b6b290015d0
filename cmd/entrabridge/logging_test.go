package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/config"
)

func TestLoggerWritesDurationsAsText(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(config.Config{LogLevel: "info", LogFormat: "json"}, &buf)
	log.Info("worker started", "lease", 60*time.Second, "debounce", 1500*time.Millisecond)
	for _, want := range []string{`"lease":"1m0s"`, `"debounce":"1.5s"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %s lacks %s", buf.String(), want)
		}
	}
}
