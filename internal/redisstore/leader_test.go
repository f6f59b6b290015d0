package redisstore_test

import (
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestAcquireLeadership(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	steps := []struct {
		name  string
		owner string
		want  bool
	}{
		{name: "free lease", owner: "a", want: true},
		{name: "renewal by holder", owner: "a", want: true},
		{name: "other owner", owner: "b", want: false},
	}
	for _, step := range steps {
		acquired, err := s.AcquireLeadership(ctx, "subscription", step.owner, time.Minute)
		if err != nil {
			t.Fatalf("%s: AcquireLeadership: %v", step.name, err)
		}
		if acquired != step.want {
			t.Errorf("%s: got acquired %t, want %t", step.name, acquired, step.want)
		}
	}

	leader, err := s.Leader(ctx, "subscription")
	if err != nil {
		t.Fatalf("Leader: %v", err)
	}
	if leader != "a" {
		t.Errorf("got leader %q, want a", leader)
	}
}

func TestAcquireLeadershipAfterExpiry(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if acquired, err := s.AcquireLeadership(ctx, "subscription", "a", 50*time.Millisecond); err != nil || !acquired {
		t.Fatalf("AcquireLeadership by a: got %t, %v, want true, nil", acquired, err)
	}
	waitFor(t, "the lease of a to expire", func() bool {
		leader, err := s.Leader(ctx, "subscription")
		return err == nil && leader == ""
	})

	acquired, err := s.AcquireLeadership(ctx, "subscription", "b", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLeadership by b: %v", err)
	}
	if !acquired {
		t.Error("got acquired false for b after the lease of a expired, want true")
	}
}

func TestReleaseLeadership(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if _, err := s.AcquireLeadership(ctx, "subscription", "a", time.Minute); err != nil {
		t.Fatalf("AcquireLeadership: %v", err)
	}

	if err := s.ReleaseLeadership(ctx, "subscription", "b"); err != nil {
		t.Fatalf("ReleaseLeadership by b: %v", err)
	}
	if leader, _ := s.Leader(ctx, "subscription"); leader != "a" {
		t.Errorf("after release by a non-holder: got leader %q, want a", leader)
	}

	if err := s.ReleaseLeadership(ctx, "subscription", "a"); err != nil {
		t.Fatalf("ReleaseLeadership by a: %v", err)
	}
	if leader, _ := s.Leader(ctx, "subscription"); leader != "" {
		t.Errorf("after release by the holder: got leader %q, want none", leader)
	}
	acquired, err := s.AcquireLeadership(ctx, "subscription", "b", time.Minute)
	if err != nil || !acquired {
		t.Errorf("AcquireLeadership by b after release: got %t, %v, want true, nil", acquired, err)
	}
}

func TestAcquireLeadershipInvalid(t *testing.T) {
	s := redistest.NewStore(t)
	tests := []struct {
		name  string
		owner string
		lease time.Duration
	}{
		{name: "empty owner", owner: "", lease: time.Minute},
		{name: "lease below 1ms", owner: "a", lease: time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acquired, err := s.AcquireLeadership(testContext(t), "subscription", tt.owner, tt.lease)
			if err == nil {
				t.Errorf("got acquired %t and no error, want an error", acquired)
			}
		})
	}
}
