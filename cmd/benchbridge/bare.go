package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// Variables the baseline servers read. Secrets travel in the environment,
// never in arguments, which other users of the machine can read.
const (
	envListen       = "BENCHBRIDGE_LISTEN"
	envStream       = "BENCHBRIDGE_STREAM"
	envClientState  = "BENCHBRIDGE_CLIENT_STATE"
	envGraphURL     = "BENCHBRIDGE_GRAPH_URL"
	envTokenURL     = "BENCHBRIDGE_TOKEN_URL"
	envClientID     = "BENCHBRIDGE_CLIENT_ID"
	envClientSecret = "BENCHBRIDGE_CLIENT_SECRET"
	envSCIMURL      = "BENCHBRIDGE_SCIM_URL"
	envSCIMToken    = "BENCHBRIDGE_SCIM_TOKEN"
)

// baselineBodyLimit matches entrabridge's default MAX_BODY_BYTES.
const baselineBodyLimit = 1 << 20

// serveBare serves the practical limit of a durable receiver. It reads the
// body without decoding it, stores it with one XADD to the stream
// BENCHBRIDGE_STREAM of the Redis at REDIS_URL, and responds 202.
func serveBare(ctx context.Context, env map[string]string, _ io.Writer) error {
	opts, err := redis.ParseURL(env["REDIS_URL"])
	if err != nil {
		return fmt.Errorf("REDIS_URL is invalid: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	stream := env[envStream]
	if stream == "" {
		return errors.New(envStream + " is not set: set it to the stream key to append to")
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("POST /webhooks/graph", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, baselineBodyLimit))
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		err = rdb.XAdd(r.Context(), &redis.XAddArgs{
			Stream: stream, MaxLen: 1_000_000, Approx: true, Values: []string{"body", string(body)},
		}).Err()
		if err != nil {
			http.Error(w, "queue unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return listenAndServe(ctx, env[envListen], mux)
}

// listenAndServe serves handler on addr until ctx ends, with the same
// read and write timeouts as entrabridge's server.
func listenAndServe(ctx context.Context, addr string, handler http.Handler) error {
	if addr == "" {
		return errors.New(envListen + " is not set: set it to a loopback address such as 127.0.0.1:8080")
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      8 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}
