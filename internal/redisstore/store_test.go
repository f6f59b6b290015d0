package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    redisstore.Options
		wantErr string
	}{
		{"zero value", redisstore.Options{}, ""},
		{"all set", redisstore.Options{Prefix: "eb-prod", InboxRetention: time.Hour, AuditMaxLen: 10}, ""},
		{"brace in prefix", redisstore.Options{Prefix: "eb{1}"}, "invalid prefix"},
		{"negative retention", redisstore.Options{InboxRetention: -time.Hour}, "invalid inbox retention"},
		{"negative audit max length", redisstore.Options{AuditMaxLen: -1}, "invalid audit max length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewPanicsOnInvalidOptions(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with an invalid prefix did not panic")
		}
	}()
	redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), redisstore.Options{Prefix: "{x}"})
}

func TestOpenInvalid(t *testing.T) {
	ctx := testContext(t)
	if _, err := redisstore.Open(ctx, "http://127.0.0.1:6379", redisstore.Options{}); err == nil {
		t.Error("Open with an http URL returned no error")
	}
	if _, err := redisstore.Open(ctx, redistest.URL(t), redisstore.Options{Prefix: "{x}"}); err == nil {
		t.Error("Open with an invalid prefix returned no error")
	}
}

func TestDefaultPrefix(t *testing.T) {
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), redisstore.Options{})
	defer s.Close()
	if got := s.Prefix(); got != redisstore.DefaultPrefix {
		t.Errorf("got prefix %q, want %q", got, redisstore.DefaultPrefix)
	}
}

func TestOpenEmbedded(t *testing.T) {
	s, addr, err := redisstore.OpenEmbedded(redisstore.Options{})
	if err != nil {
		t.Fatalf("OpenEmbedded: %v", err)
	}
	ctx := testContext(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("got address %s, want one on 127.0.0.1", addr)
	}
	enqueue(t, s, "u1")
	if got := schedule(t, s, 0); got != 1 {
		t.Errorf("Schedule processed %d entries, want 1", got)
	}

	other, err := redisstore.Open(ctx, "redis://"+addr, redisstore.Options{})
	if err != nil {
		t.Fatalf("Open of the embedded address: %v", err)
	}
	defer other.Close()
	if jobs := claim(t, other, "w1", 10, time.Minute); len(jobs) != 1 {
		t.Errorf("Claim through a second client returned %d jobs, want 1", len(jobs))
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := other.Ping(ctx); err == nil {
		t.Error("Ping after the embedded server closed returned no error")
	}
}

func TestPurgeKeepsOtherPrefixes(t *testing.T) {
	url := redistest.URL(t)
	ctx := testContext(t)
	open := func(prefix string) *redisstore.Store {
		t.Helper()
		s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	// Unescaped, the pattern of prefix "<base>?" would match "<base>x".
	base := redistest.Prefix(t, url)
	mine := open(base + "?")
	other := open(base + "x")
	t.Cleanup(func() { other.Purge(context.Background()) })
	for _, s := range []*redisstore.Store{mine, other} {
		enqueue(t, s, "u1")
		if err := s.SetMapping(ctx, "obj-1", "scim-1"); err != nil {
			t.Fatalf("SetMapping: %v", err)
		}
	}

	n, err := mine.Purge(ctx)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if n != 2 {
		t.Errorf("purged %d keys, want 2", n)
	}
	if _, ok, _ := mine.Mapping(ctx, "obj-1"); ok {
		t.Error("mapping of the purged prefix survived")
	}
	if _, ok, err := other.Mapping(ctx, "obj-1"); err != nil || !ok {
		t.Errorf("mapping of the other prefix: got ok %v, err %v, want true, nil", ok, err)
	}
}
