package main

import (
	"context"
	"log/slog"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// connect connects the administrative commands to the bridge's Redis.
func (c *cli) connect(ctx context.Context) (*redisstore.Store, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg, slog.New(slog.DiscardHandler))
}
