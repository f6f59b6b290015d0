package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// closedURL returns a Redis URL on a port that was free a moment ago.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return "redis://" + addr
}

func withLocalURL(t *testing.T, url string) {
	t.Helper()
	saved := localURL
	localURL = url
	t.Cleanup(func() { localURL = saved })
}

func TestURLPrefersRedisURL(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/3")
	if got := URL(t); got != "redis://127.0.0.1:1/3" {
		t.Errorf("got %s, want REDIS_URL", got)
	}
}

func TestURLFallsBackToMiniredis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("CI", "")
	closed := closedURL(t)
	withLocalURL(t, closed)

	url := URL(t)
	if url == closed || !strings.HasPrefix(url, "redis://127.0.0.1:") {
		t.Fatalf("got %s, want a miniredis URL on 127.0.0.1", url)
	}
	s, err := redisstore.Open(context.Background(), url, redisstore.Options{})
	if err != nil {
		t.Fatalf("Open of the fallback: %v", err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping of the fallback: %v", err)
	}
}

// fatalRecorder records Fatalf instead of failing the test.
type fatalRecorder struct {
	testing.TB
	message string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.message = fmt.Sprintf(format, args...)
	panic(f)
}

func TestURLFailsInCIWithoutRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("CI", "true")
	withLocalURL(t, closedURL(t))

	rec := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != rec {
				panic(r)
			}
		}()
		URL(rec)
	}()
	if !strings.Contains(rec.message, "CI=true") {
		t.Errorf("got fatal message %q, want one naming CI=true", rec.message)
	}
}

func TestPrefixDeletesKeysAfterTest(t *testing.T) {
	url := URL(t)
	var prefix string
	t.Run("writer", func(t *testing.T) {
		prefix = Prefix(t, url)
		if !strings.HasPrefix(prefix, "ebtest-") {
			t.Errorf("got prefix %s, want ebtest-<random>", prefix)
		}
		s, err := redisstore.Open(context.Background(), url, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		if err := s.SetMapping(context.Background(), "obj-1", "scim-1"); err != nil {
			t.Fatalf("SetMapping: %v", err)
		}
	})

	s, err := redisstore.Open(context.Background(), url, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	n, err := s.Purge(context.Background())
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if n != 0 {
		t.Errorf("found %d keys of %s after its test ended, want 0", n, prefix)
	}
}

func TestPrefixUnique(t *testing.T) {
	url := URL(t)
	if a, b := Prefix(t, url), Prefix(t, url); a == b {
		t.Errorf("two prefixes are both %s", a)
	}
}
