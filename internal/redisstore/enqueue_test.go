package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

func TestEnqueueStoresFields(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	received := time.UnixMilli(time.Now().UnixMilli())
	lc := bridge.Lifecycle{
		SubscriptionID:         "sub-1",
		Event:                  "reauthorizationRequired",
		TenantID:               "tenant-1",
		SubscriptionExpiration: "2025-02-04T10:00:00Z",
		ReceivedAt:             received,
	}
	c := change("u1")
	c.ReceivedAt = received
	if err := s.Enqueue(ctx, []bridge.Change{c}, []bridge.Lifecycle{lc}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}

	schedule(t, s, 0)
	if got := userState(t, s, "u1").NotifiedAt; !got.Equal(received) {
		t.Errorf("notified at %v, want the change's ReceivedAt %v", got, received)
	}
	entries, err := s.ReadLifecycle(ctx, "c1", 10, 0)
	if err != nil {
		t.Fatalf("ReadLifecycle: %v", err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d lifecycle entries, want 1", len(entries))
	}
	if entries[0].Lifecycle != lc {
		t.Errorf("lifecycle entry: got %+v, want %+v", entries[0].Lifecycle, lc)
	}
}

// TestEnqueueEntries checks how changes are grouped into inbox entries and
// that Schedule makes every user of every entry due.
func TestEnqueueEntries(t *testing.T) {
	t1 := time.UnixMilli(time.Now().UnixMilli())
	t2 := t1.Add(time.Second)
	at := func(n int, received time.Time) []bridge.Change {
		changes := make([]bridge.Change, n)
		for i := range changes {
			changes[i] = change(fmt.Sprintf("u%d-%d", received.UnixMilli(), i))
			changes[i].ReceivedAt = received
		}
		return changes
	}
	tests := []struct {
		name        string
		changes     []bridge.Change
		wantEntries int64
	}{
		{"one request of 20 items", at(20, t1), 1},
		{"two received times", append(at(3, t1), at(2, t2)...), 2},
		{"more users than one entry holds", at(2*redisstore.MaxUsersPerEntry+1, t1), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.NewStore(t)
			ctx := testContext(t)
			if err := s.Enqueue(ctx, tt.changes, nil); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			n, err := redisstore.InboxLen(ctx, s)
			if err != nil {
				t.Fatalf("inbox length: %v", err)
			}
			if n != tt.wantEntries {
				t.Errorf("got %d inbox entries, want %d", n, tt.wantEntries)
			}

			if got := schedule(t, s, 0); got != int(tt.wantEntries) {
				t.Errorf("Schedule processed %d entries, want %d", got, tt.wantEntries)
			}
			d, err := s.Depths(ctx)
			if err != nil {
				t.Fatalf("Depths: %v", err)
			}
			if d.Due != int64(len(tt.changes)) || d.InboxPending != 0 {
				t.Errorf("got %d due and %d pending, want %d due and 0 pending",
					d.Due, d.InboxPending, len(tt.changes))
			}
			for _, c := range []bridge.Change{tt.changes[0], tt.changes[len(tt.changes)-1]} {
				if got := userState(t, s, c.UserID).NotifiedAt; !got.Equal(c.ReceivedAt) {
					t.Errorf("%s notified at %v, want its ReceivedAt %v", c.UserID, got, c.ReceivedAt)
				}
			}
		})
	}
}

func TestEnqueueRejectsEmptyUserID(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if err := s.Enqueue(ctx, []bridge.Change{change("u0"), change("")}, nil); err == nil {
		t.Error("Enqueue of an empty user ID: got nil error, want one")
	}
	if n, err := redisstore.InboxLen(ctx, s); err != nil || n != 0 {
		t.Errorf("got %d inbox entries (err %v), want 0", n, err)
	}
}

// TestEnqueueUserIDWithSeparator checks that a user ID containing the
// separator of an entry's users is stored on its own and still scheduled.
func TestEnqueueUserIDWithSeparator(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	changes := []bridge.Change{change("u1"), change("odd,id"), change("u2"), change("u3")}
	for i := range changes {
		changes[i].ReceivedAt = changes[0].ReceivedAt
	}
	if err := s.Enqueue(ctx, changes, nil); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if n, err := redisstore.InboxLen(ctx, s); err != nil || n != 3 {
		t.Errorf("got %d inbox entries (err %v), want 3", n, err)
	}

	schedule(t, s, 0)
	for _, user := range []string{"u1", "odd,id", "u2", "u3"} {
		if userState(t, s, user).DueAt.IsZero() {
			t.Errorf("%s is not due after Schedule", user)
		}
	}
}

// TestScheduleDrainsLegacyInbox checks that entries an older version wrote
// to its inbox stream, with one "user" field each, are scheduled, counted,
// replayed and trimmed, and that the emptied stream is deleted.
func TestScheduleDrainsLegacyInbox(t *testing.T) {
	s := redistest.NewStoreWith(t, redisstore.Options{InboxRetention: time.Hour})
	ctx := testContext(t)
	old := time.UnixMilli(time.Now().Add(-3 * time.Hour).UnixMilli())
	for _, user := range []string{"legacy-1", "legacy-2"} {
		if err := redisstore.AddLegacyInboxEntryAt(ctx, s, old, user); err != nil {
			t.Fatalf("add legacy entry: %v", err)
		}
	}
	enqueue(t, s, "current")

	d, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.InboxPending != 3 {
		t.Errorf("got %d inbox entries pending, want 3", d.InboxPending)
	}
	if err := s.TrimInbox(ctx); err != nil {
		t.Fatalf("TrimInbox before Schedule: %v", err)
	}
	if n, err := redisstore.LegacyInboxLen(ctx, s); err != nil || n != 2 {
		t.Errorf("legacy inbox before Schedule: got length %d (error %v), want 2", n, err)
	}
	if got := schedule(t, s, 0); got != 3 {
		t.Fatalf("Schedule processed %d entries, want 3", got)
	}
	for _, user := range []string{"legacy-1", "legacy-2", "current"} {
		if userState(t, s, user).DueAt.IsZero() {
			t.Errorf("%s is not due after Schedule", user)
		}
	}
	if got := userState(t, s, "legacy-1").NotifiedAt; !got.Equal(old) {
		t.Errorf("legacy-1 notified at %v, want %v", got, old)
	}
	entries, users, err := s.ReplayInbox(ctx, time.Time{})
	if err != nil || entries != 3 || users != 3 {
		t.Errorf("ReplayInbox: got %d notifications, %d users, error %v; want 3, 3, nil", entries, users, err)
	}

	if err := s.TrimInbox(ctx); err != nil {
		t.Fatalf("TrimInbox: %v", err)
	}
	if n, err := redisstore.LegacyInboxLen(ctx, s); err != nil || n != -1 {
		t.Errorf("legacy inbox after trim: got length %d (error %v), want it deleted", n, err)
	}
	if n, err := redisstore.InboxLen(ctx, s); err != nil || n != 1 {
		t.Errorf("inbox after trim: got %d entries (error %v), want 1", n, err)
	}
}

func TestEnqueueEmpty(t *testing.T) {
	s := redistest.NewStore(t)
	if err := s.Enqueue(testContext(t), nil, []bridge.Lifecycle{}); err != nil {
		t.Errorf("Enqueue of nothing: %v", err)
	}
}

func TestEnqueueRedisDown(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()

	rdb := redis.NewClient(&redis.Options{
		Addr:          addr,
		DialTimeout:   200 * time.Millisecond,
		DialerRetries: 1,
		MaxRetries:    1,
	})
	s := redisstore.New(rdb, redisstore.Options{Prefix: "ebtest-down"})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	err = s.Enqueue(ctx, []bridge.Change{change("u1")}, nil)
	if err == nil {
		t.Fatal("Enqueue with Redis down returned nil")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Enqueue hung until the context deadline: %v", err)
	}

	// Concurrent requests share pipelines, and each must fail too.
	var results []<-chan error
	for i := range 50 {
		results = append(results, enqueueAsync(ctx, s, fmt.Sprintf("u%d", i)))
	}
	for i, done := range results {
		err := <-done
		if err == nil {
			t.Errorf("concurrent Enqueue %d with Redis down returned nil", i)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("concurrent Enqueue %d hung until the context deadline: %v", i, err)
		}
	}
	if _, err := redisstore.Open(ctx, "redis://"+addr, redisstore.Options{}); err == nil {
		t.Error("Open with Redis down returned nil")
	}
}

// TestEnqueueAllOrNothing cuts the connection after MULTI and the XADDs
// reached Redis but before EXEC, and checks that no entry was stored.
func TestEnqueueAllOrNothing(t *testing.T) {
	tests := []struct {
		name    string
		cut     bool
		wantErr bool
		wantLen int64
	}{
		{"connection cut before EXEC", true, true, 0},
		{"connection intact", false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := redistest.URL(t)
			prefix := redistest.Prefix(t, url)
			opts, err := redis.ParseURL(url)
			if err != nil {
				t.Fatalf("parse %s: %v", url, err)
			}
			var cutAfterXAdd atomic.Bool
			opts.Addr = startExecCutter(t, opts.Addr, tt.cut, &cutAfterXAdd)
			opts.MaxRetries = 1
			s := redisstore.New(redis.NewClient(opts), redisstore.Options{Prefix: prefix})
			defer s.Close()
			ctx := testContext(t)

			changes := []bridge.Change{change("u1"), change("u2"), change("u3")}
			err = s.Enqueue(ctx, changes, []bridge.Lifecycle{{SubscriptionID: "sub-1"}})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Enqueue: got error %v, want error %v", err, tt.wantErr)
			}
			if tt.cut && !cutAfterXAdd.Load() {
				t.Fatal("the proxy cut the connection before any XADD reached Redis")
			}

			direct, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: prefix})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer direct.Close()
			n, err := redisstore.InboxLen(ctx, direct)
			if err != nil {
				t.Fatalf("inbox length: %v", err)
			}
			if n != tt.wantLen {
				t.Errorf("got %d inbox entries, want %d", n, tt.wantLen)
			}
			d, err := direct.Depths(ctx)
			if err != nil {
				t.Fatalf("Depths: %v", err)
			}
			if wantLC := min(tt.wantLen, 1); d.LifecyclePending != wantLC {
				t.Errorf("got %d lifecycle entries, want %d", d.LifecyclePending, wantLC)
			}
		})
	}
}

// startExecCutter starts a TCP proxy to target on 127.0.0.1 and returns its
// address. With cut set, it forwards a client's bytes up to the first EXEC
// command, then closes both connections, so Redis receives MULTI and the
// queued commands but never EXEC. It sets cutAfterXAdd when an XADD went
// through before a cut.
func startExecCutter(t *testing.T, target string, cut bool, cutAfterXAdd *atomic.Bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(client, server)
				client.Close()
			}()
			go func() {
				defer wg.Done()
				if forwardUntilExec(server, client, cut) {
					cutAfterXAdd.Store(true)
				}
				server.Close()
				client.Close()
			}()
		}
	}()
	return l.Addr().String()
}

// execCommand is EXEC as go-redis encodes it in RESP.
var execCommand = []byte("*1\r\n$4\r\nexec\r\n")

// forwardUntilExec copies src to dst, stopping before the first EXEC when
// cut is set. It reports whether it stopped there after forwarding an
// XADD.
func forwardUntilExec(dst io.Writer, src io.Reader, cut bool) bool {
	if !cut {
		io.Copy(dst, src)
		return false
	}
	buf := make([]byte, 64<<10)
	var pending []byte
	sawXAdd := false
	for {
		n, err := src.Read(buf)
		pending = append(pending, buf[:n]...)
		lower := bytes.ToLower(pending)
		if i := bytes.Index(lower, execCommand); i >= 0 {
			_, werr := dst.Write(pending[:i])
			return werr == nil && (sawXAdd || bytes.Contains(lower[:i], []byte("xadd")))
		}
		// Hold back only a tail that could be the start of an EXEC split
		// across reads; everything else goes through at once.
		keep := len(pending)
		for k := min(len(execCommand)-1, len(pending)); k > 0; k-- {
			if bytes.HasPrefix(execCommand, lower[len(lower)-k:]) {
				keep = len(pending) - k
				break
			}
		}
		if _, werr := dst.Write(pending[:keep]); werr != nil || err != nil {
			return false
		}
		sawXAdd = sawXAdd || bytes.Contains(lower[:keep], []byte("xadd"))
		pending = pending[keep:]
	}
}
