package admin

import (
	"strings"
	"testing"
	"time"
)

func TestValidToken(t *testing.T) {
	k := newKeys("s3cret-token")
	tests := []struct {
		name      string
		candidate string
		want      bool
	}{
		{"same", "s3cret-token", true},
		{"empty", "", false},
		{"prefix", "s3cret", false},
		{"longer", "s3cret-token ", false},
		{"other case", "S3CRET-TOKEN", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.validToken(tt.candidate); got != tt.want {
				t.Errorf("validToken(%q): got %v, want %v", tt.candidate, got, tt.want)
			}
		})
	}
}

func TestValidSession(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	k := newKeys("s3cret-token")
	session := k.newSession(now)
	expiry, nonce, _ := strings.Cut(session, ".")
	tests := []struct {
		name  string
		value string
		at    time.Time
		want  bool
	}{
		{"fresh", session, now, true},
		{"just before expiry", session, now.Add(sessionTTL - time.Second), true},
		{"at expiry", session, now.Add(sessionTTL), false},
		{"signed by another token", newKeys("other-token").newSession(now), now, false},
		{"expiry pushed later", "9" + expiry + "." + nonce, now, false},
		{"signature removed", session[:strings.LastIndexByte(session, '.')], now, false},
		{"empty", "", now, false},
		{"no dots", "garbage", now, false},
		{"oversized", strings.Repeat("a", maxSessionBytes+1), now, false},
		{"csrf token as session", k.csrfToken(session), now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.validSession(tt.value, tt.at); got != tt.want {
				t.Errorf("validSession(%q): got %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestNewSessionUnique(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	k := newKeys("s3cret-token")

	a, b := k.newSession(now), k.newSession(now)

	if a == b {
		t.Errorf("two sessions at the same instant: got %q twice, want different values", a)
	}
	if k.csrfToken(a) == k.csrfToken(b) {
		t.Errorf("CSRF tokens of two sessions: got %q twice, want different values", k.csrfToken(a))
	}
}

func TestValidCSRFToken(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	k := newKeys("s3cret-token")
	session := k.newSession(now)
	other := k.newSession(now)
	tests := []struct {
		name      string
		candidate string
		want      bool
	}{
		{"own", k.csrfToken(session), true},
		{"empty", "", false},
		{"another session's", k.csrfToken(other), false},
		{"another token's", newKeys("other-token").csrfToken(session), false},
		{"the session signature", session[strings.LastIndexByte(session, '.')+1:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.validCSRFToken(session, tt.candidate); got != tt.want {
				t.Errorf("validCSRFToken(%q): got %v, want %v", tt.candidate, got, tt.want)
			}
		})
	}
}
