package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/entrabridge/entrabridge/internal/lograte"
)

func TestRedisLoggerLimitsLines(t *testing.T) {
	var buf bytes.Buffer
	l := &redisLogger{logger: slog.New(slog.NewJSONHandler(&buf, nil)), limit: lograte.New(5)}
	for range 20 {
		l.Printf(context.Background(), "redis: failed to dial after %d attempts", 5)
	}
	lines := strings.Count(buf.String(), "\n")
	if lines != 5 {
		t.Errorf("got %d log lines for 20 messages in one second, want 5", lines)
	}
	if !strings.Contains(buf.String(), `"message":"redis: failed to dial after 5 attempts"`) {
		t.Errorf("log lacks the formatted message: %s", buf.String())
	}
}
