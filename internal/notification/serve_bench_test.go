package notification

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/server"
)

// discardQueue accepts every batch without storing it, so that the
// benchmarks below measure the receiver's own work.
type discardQueue struct{}

func (discardQueue) Enqueue(context.Context, []bridge.Change, []bridge.Lifecycle) error { return nil }

// BenchmarkServeSingle and BenchmarkServeBatch run a recorded body through
// the server's middleware and the handler, with logs at Info, as
// entrabridge serves by default, and without network or Redis.
func BenchmarkServeSingle(b *testing.B) { benchmarkServe(b, "single-update.json") }
func BenchmarkServeBatch(b *testing.B)  { benchmarkServe(b, "batch-20-users.json") }

func benchmarkServe(b *testing.B, file string) {
	raw, err := os.ReadFile("../../testdata/notifications/" + file)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.ReplaceAll(string(raw), "<client-state>", testClientState))
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := NewHandler(Config{ClientStates: []string{testClientState}, Logger: logger}, discardQueue{})
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Logger: logger})
	h.Register(srv.Echo())

	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, ChangesPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Echo().ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
