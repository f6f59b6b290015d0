package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/entrabridge/entrabridge/internal/lograte"
)

// SetLogger sends go-redis's own messages (failed dials, pool problems)
// to logger at Warn, at most five lines a second, instead of as plain text
// on stderr. go-redis keeps one logger per process, so this affects every
// client in it.
func SetLogger(logger *slog.Logger) {
	redis.SetLogger(&redisLogger{logger: logger, limit: lograte.New(5)})
}

type redisLogger struct {
	logger *slog.Logger
	limit  *lograte.Limiter
}

func (l *redisLogger) Printf(ctx context.Context, format string, v ...any) {
	ok, suppressed := l.limit.Allow(time.Now())
	if !ok {
		return
	}
	l.logger.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...),
		"suppressed_lines", suppressed)
}
