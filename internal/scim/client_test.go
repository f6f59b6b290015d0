package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func TestFindUsersEscapesFilter(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	ids := map[string]string{}
	for i, name := range []string{`o'brien`, `a"b\c`, `a"b`, `a\"b\\c`, "tab\tname", "bell\x07name"} {
		u := srv.AddUser(scim.User{
			UserName:   name,
			ExternalID: fmt.Sprintf("ext-%d", i),
			Emails:     []scim.Email{{Value: fmt.Sprintf("user%d@contoso.com", i), Type: "work", Primary: true}},
		})
		ids[name] = u.ID
	}

	tests := []struct {
		name       string
		value      string
		wantFilter string
		wantIDs    []string
	}{
		{"apostrophe", `o'brien`, `userName eq "o'brien"`, []string{ids[`o'brien`]}},
		{"quote and backslash", `a"b\c`, `userName eq "a\"b\\c"`, []string{ids[`a"b\c`]}},
		{"escape lookalike", `a\"b\\c`, `userName eq "a\\\"b\\\\c"`, []string{ids[`a\"b\\c`]}},
		{"prefix only", `a"b`, `userName eq "a\"b"`, []string{ids[`a"b`]}},
		{"tab", "tab\tname", `userName eq "tab\tname"`, []string{ids["tab\tname"]}},
		{"control character", "bell\x07name", `userName eq "bell\u0007name"`, []string{ids["bell\x07name"]}},
		{"case-insensitive", `O'BRIEN`, `userName eq "O'BRIEN"`, []string{ids[`o'brien`]}},
		{"no match", `o'brian`, `userName eq "o'brian"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := c.FindUsers(context.Background(), "userName", tt.value)
			if err != nil {
				t.Fatalf("FindUsers: %v", err)
			}
			var gotIDs []string
			for _, u := range users {
				gotIDs = append(gotIDs, u.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, gotIDs); diff != "" {
				t.Errorf("user IDs (-want +got):\n%s", diff)
			}

			requests := srv.Requests()
			query := requests[len(requests)-1].Query
			values, err := url.ParseQuery(query)
			if err != nil {
				t.Fatalf("parse sent query %q: %v", query, err)
			}
			if got := values.Get("filter"); got != tt.wantFilter {
				t.Errorf("sent filter %q, want %q", got, tt.wantFilter)
			}
			if strings.Contains(query, "+") {
				t.Errorf("sent query %q contains +, want spaces as %%20", query)
			}
		})
	}
}

func TestFindUsersExternalIDCaseSensitive(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	u := srv.AddUser(scim.User{
		UserName:   "alex@contoso.com",
		ExternalID: "2b3c1f7a-0000-4000-8000-00000000000a",
		Emails:     []scim.Email{{Value: "alex@contoso.com", Type: "work", Primary: true}},
	})

	tests := []struct {
		name    string
		value   string
		wantLen int
	}{
		{"same case", "2b3c1f7a-0000-4000-8000-00000000000a", 1},
		{"other case", "2B3C1F7A-0000-4000-8000-00000000000A", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := c.FindUsers(context.Background(), "externalId", tt.value)
			if err != nil {
				t.Fatalf("FindUsers: %v", err)
			}
			if len(users) != tt.wantLen {
				t.Fatalf("got %d users, want %d", len(users), tt.wantLen)
			}
			if tt.wantLen == 1 && users[0].ID != u.ID {
				t.Errorf("got user %s, want %s", users[0].ID, u.ID)
			}
		})
	}
}

func TestFindUsersRejectsOtherAttributes(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})

	_, err := c.FindUsers(context.Background(), "emails.value", "alex@contoso.com")
	fe := asFailure(t, err)
	if fe.Class != failure.Permanent {
		t.Errorf("got class %v, want %v", fe.Class, failure.Permanent)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
}

func TestCallErrors(t *testing.T) {
	invalidFilter := readTestdata(t, "scim-error-400-invalid-filter.json")

	tests := []struct {
		name string
		// call sets up srv and makes one call with a client for it.
		call           func(t *testing.T, srv *fakescim.Server) error
		wantClass      failure.Class
		wantStatus     int
		wantCode       string
		wantDetail     string
		wantRetryAfter [2]time.Duration // inclusive range
	}{
		{
			name: "invalid filter",
			call: func(t *testing.T, srv *fakescim.Server) error {
				srv.FailNext(1, http.StatusBadRequest, nil, invalidFilter)
				_, err := newClient(t, srv, scim.Options{}).FindUsers(context.Background(), "userName", "x")
				return err
			},
			wantClass: failure.Permanent, wantStatus: 400, wantCode: "invalidFilter",
			wantDetail: "Resource [USER] invalid filter",
		},
		{
			name: "email taken",
			call: func(t *testing.T, srv *fakescim.Server) error {
				addUser(srv, "a@contoso.com", "work")
				b := addUser(srv, "b@contoso.com", "work")
				_, err := newClient(t, srv, scim.Options{}).PatchUser(context.Background(), b.ID,
					[]scim.Operation{scim.ReplaceWorkEmailValue("A@contoso.com")})
				return err
			},
			wantClass: failure.Permanent, wantStatus: 409, wantCode: "uniqueness",
			wantDetail: "Resource [USER]: with email[A@contoso.com] already exists.",
		},
		{
			name: "no work email",
			call: func(t *testing.T, srv *fakescim.Server) error {
				u := addUser(srv, "home@contoso.com", "home")
				_, err := newClient(t, srv, scim.Options{}).PatchUser(context.Background(), u.ID,
					[]scim.Operation{scim.ReplaceWorkEmailValue("new@contoso.com")})
				return err
			},
			wantClass: failure.Permanent, wantStatus: 400, wantCode: "noTarget",
			wantDetail: `no email matches emails[type eq "work"].value`,
		},
		{
			name: "unknown user",
			call: func(t *testing.T, srv *fakescim.Server) error {
				_, err := newClient(t, srv, scim.Options{}).GetUser(context.Background(), "missing")
				return err
			},
			wantClass: failure.NotFound, wantStatus: 404,
			wantDetail: "Resource [USER] with id [missing] not found",
		},
		{
			name: "deactivated user",
			call: func(t *testing.T, srv *fakescim.Server) error {
				u := addUser(srv, "gone@contoso.com", "work")
				u.Active = boolPtr(false)
				srv.AddUser(u)
				_, err := newClient(t, srv, scim.Options{}).GetUser(context.Background(), u.ID)
				return err
			},
			wantClass: failure.NotFound, wantStatus: 404,
			wantDetail: "Resource [USER] with id [fake-user-1] not found",
		},
		{
			name: "wrong token",
			call: func(t *testing.T, srv *fakescim.Server) error {
				c, err := scim.New(srv.BaseURL(), "wrong-token", scim.Options{HTTPClient: srv.Client()})
				if err != nil {
					t.Fatalf("scim.New: %v", err)
				}
				return c.ServiceProviderConfig(context.Background())
			},
			wantClass: failure.Permanent, wantStatus: 401,
			wantDetail: "missing or invalid bearer token",
		},
		{
			name: "429 with Retry-After seconds",
			call: func(t *testing.T, srv *fakescim.Server) error {
				srv.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}, nil)
				_, err := newClient(t, srv, scim.Options{}).GetUser(context.Background(), "any")
				return err
			},
			wantClass: failure.Retryable, wantStatus: 429, wantDetail: "injected failure",
			wantRetryAfter: [2]time.Duration{30 * time.Second, 30 * time.Second},
		},
		{
			name: "429 with Retry-After date",
			call: func(t *testing.T, srv *fakescim.Server) error {
				at := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
				srv.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {at}}, nil)
				_, err := newClient(t, srv, scim.Options{}).GetUser(context.Background(), "any")
				return err
			},
			wantClass: failure.Retryable, wantStatus: 429, wantDetail: "injected failure",
			// The HTTP date has whole seconds, so up to one second is lost.
			wantRetryAfter: [2]time.Duration{118 * time.Second, 2 * time.Minute},
		},
		{
			name: "429 with X-RateLimit-Reset",
			call: func(t *testing.T, srv *fakescim.Server) error {
				at := time.Now().Add(90 * time.Second).UTC().Format(time.RFC3339Nano)
				srv.FailNext(1, http.StatusTooManyRequests, http.Header{"X-RateLimit-Reset": {at}}, nil)
				_, err := newClient(t, srv, scim.Options{}).GetUser(context.Background(), "any")
				return err
			},
			wantClass: failure.Retryable, wantStatus: 429, wantDetail: "injected failure",
			wantRetryAfter: [2]time.Duration{80 * time.Second, 90 * time.Second},
		},
		{
			name: "503 from a proxy",
			call: func(t *testing.T, srv *fakescim.Server) error {
				srv.FailNext(1, http.StatusServiceUnavailable, http.Header{"Content-Type": {"text/html"}},
					[]byte("<html><body>503 Service Unavailable</body></html>\n"))
				_, err := newClient(t, srv, scim.Options{}).ListUsers(context.Background(), 1, 10)
				return err
			},
			wantClass: failure.Retryable, wantStatus: 503,
			wantDetail: "<html><body>503 Service Unavailable</body></html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			fe := asFailure(t, tt.call(t, srv))
			if fe.Service != "scim" {
				t.Errorf("got service %q, want %q", fe.Service, "scim")
			}
			if fe.Class != tt.wantClass {
				t.Errorf("got class %v, want %v", fe.Class, tt.wantClass)
			}
			if fe.Status != tt.wantStatus {
				t.Errorf("got status %d, want %d", fe.Status, tt.wantStatus)
			}
			if fe.Code != tt.wantCode {
				t.Errorf("got code %q, want %q", fe.Code, tt.wantCode)
			}
			if fe.Detail != tt.wantDetail {
				t.Errorf("got detail %q, want %q", fe.Detail, tt.wantDetail)
			}
			if fe.RetryAfter < tt.wantRetryAfter[0] || fe.RetryAfter > tt.wantRetryAfter[1] {
				t.Errorf("got RetryAfter %v, want %v to %v", fe.RetryAfter, tt.wantRetryAfter[0], tt.wantRetryAfter[1])
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	srv.Close()

	_, err := c.GetUser(context.Background(), "any")
	fe := asFailure(t, err)
	if fe.Class != failure.Retryable {
		t.Errorf("got class %v, want %v", fe.Class, failure.Retryable)
	}
	if fe.Status != 0 {
		t.Errorf("got status %d, want 0", fe.Status)
	}
	if fe.Err == nil {
		t.Error("got no underlying error, want the transport error")
	}
}

func TestInvalidSuccessBody(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"not JSON", []byte("<html>maintenance</html>")},
		{"too large", []byte(`{"id":"` + strings.Repeat("a", 4<<20) + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			c := newClient(t, srv, scim.Options{})
			srv.FailNext(1, http.StatusOK, nil, tt.body)

			_, err := c.GetUser(context.Background(), "any")
			fe := asFailure(t, err)
			if fe.Class != failure.Retryable {
				t.Errorf("got class %v, want %v", fe.Class, failure.Retryable)
			}
			if fe.Status != http.StatusOK {
				t.Errorf("got status %d, want %d", fe.Status, http.StatusOK)
			}
			if fe.Detail != "invalid response body" {
				t.Errorf("got detail %q, want %q", fe.Detail, "invalid response body")
			}
		})
	}
}

func TestGetUser(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	want := srv.AddUser(scim.User{
		ID:         "247b915a-9d6c-4cd5-b5a5-071b1b3abc2e",
		ExternalID: "2b3c1f7a-0000-4000-8000-000000000001",
		UserName:   "alex.doe@contoso.com",
		Emails:     []scim.Email{{Value: "alex.doe@contoso.com", Type: "work", Primary: true}},
		Active:     boolPtr(true),
		AccountID:  "602bdf457b23f40068547c25",
	})

	got, err := c.GetUser(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
}

func TestPatchUserRenames(t *testing.T) {
	tests := []struct {
		name     string
		verified []string
		newEmail string
		// wantAccountID is empty when the record is unlinked.
		wantAccountID string
	}{
		{"all domains verified", nil, "alex.smith@fabrikam.com", "602bdf457b23f40068547c25"},
		{"same verified domain", []string{"contoso.com"}, "alex.smith@contoso.com", "602bdf457b23f40068547c25"},
		{"unverified domain", []string{"contoso.com"}, "alex.smith@fabrikam.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			srv.SetVerifiedDomains(tt.verified)
			c := newClient(t, srv, scim.Options{})
			u := srv.AddUser(scim.User{
				UserName:  "alex.doe@contoso.com",
				Emails:    []scim.Email{{Value: "alex.doe@contoso.com", Type: "work", Primary: true}},
				Active:    boolPtr(true),
				AccountID: "602bdf457b23f40068547c25",
			})

			got, err := c.PatchUser(context.Background(), u.ID, []scim.Operation{
				scim.ReplaceUserName(tt.newEmail),
				scim.ReplaceWorkEmailValue(tt.newEmail),
			})
			if err != nil {
				t.Fatalf("PatchUser: %v", err)
			}
			want := scim.User{
				ID:        u.ID,
				UserName:  tt.newEmail,
				Emails:    []scim.Email{{Value: tt.newEmail, Type: "work", Primary: true}},
				Active:    boolPtr(true),
				AccountID: tt.wantAccountID,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("returned user (-want +got):\n%s", diff)
			}
			stored, _ := srv.User(u.ID)
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored user (-want +got):\n%s", diff)
			}
			if n := srv.Patches(u.ID); n != 1 {
				t.Errorf("got %d PATCH requests, want 1", n)
			}
		})
	}
}

func TestPatchUserReplaceEmailsAddsWorkEmail(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	u := addUser(srv, "alex@home.example", "home")

	got, err := c.PatchUser(context.Background(), u.ID, []scim.Operation{scim.ReplaceEmails("alex@contoso.com")})
	if err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	want := []scim.Email{{Value: "alex@contoso.com", Type: "work", Primary: true}}
	if diff := cmp.Diff(want, got.Emails); diff != "" {
		t.Errorf("emails (-want +got):\n%s", diff)
	}
}

func TestPatchUserSendsGoldenBody(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	u := addUser(srv, "alex.doe@contoso.com", "work")

	_, err := c.PatchUser(context.Background(), u.ID, []scim.Operation{
		scim.ReplaceUserName("alex.smith@contoso.com"),
		scim.ReplaceWorkEmailValue("alex.smith@contoso.com"),
	})
	if err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	requests := srv.Requests()
	last := requests[len(requests)-1]
	if last.Method != http.MethodPatch {
		t.Fatalf("got last method %s, want PATCH", last.Method)
	}
	if want := "/scim/directory/dir-test/Users/" + u.ID; last.Path != want {
		t.Errorf("got path %q, want %q", last.Path, want)
	}
	assertGolden(t, "patch-rename.golden", last.Body)
}

func TestPatchUserNoContentReadsUser(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	u := addUser(srv, "alex@contoso.com", "work")
	srv.FailNext(1, http.StatusNoContent, nil, []byte{})

	got, err := c.PatchUser(context.Background(), u.ID, []scim.Operation{scim.ReplaceUserName("x@contoso.com")})
	if err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	var methods []string
	for _, r := range srv.Requests() {
		methods = append(methods, r.Method)
	}
	if diff := cmp.Diff([]string{"PATCH", "GET"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}

func TestPatchUserRejectsEmptyArguments(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})

	tests := []struct {
		name string
		id   string
		ops  []scim.Operation
	}{
		{"empty id", "", []scim.Operation{scim.ReplaceUserName("x")}},
		{"no operations", "some-id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PatchUser(context.Background(), tt.id, tt.ops)
			if fe := asFailure(t, err); fe.Class != failure.Permanent {
				t.Errorf("got class %v, want %v", fe.Class, failure.Permanent)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
}

func TestListUsersPages(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	var wantIDs []string
	for i := range 250 {
		u := addUser(srv, fmt.Sprintf("user%03d@contoso.com", i), "work")
		wantIDs = append(wantIDs, u.ID)
	}

	var gotIDs, gotPages []string
	for start := 1; ; {
		page, err := c.ListUsers(context.Background(), start, scim.MaxPageSize)
		if err != nil {
			t.Fatalf("ListUsers(%d): %v", start, err)
		}
		if page.TotalResults != 250 {
			t.Errorf("page at %d: got totalResults %d, want 250", start, page.TotalResults)
		}
		if page.StartIndex != start {
			t.Errorf("got startIndex %d, want %d", page.StartIndex, start)
		}
		gotPages = append(gotPages, fmt.Sprintf("%d+%d", page.StartIndex, page.ItemsPerPage))
		for _, u := range page.Resources {
			gotIDs = append(gotIDs, u.ID)
		}
		if page.ItemsPerPage == 0 || start+page.ItemsPerPage > page.TotalResults {
			break
		}
		start += page.ItemsPerPage
	}
	if diff := cmp.Diff([]string{"1+100", "101+100", "201+50"}, gotPages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("user IDs (-want +got):\n%s", diff)
	}
}

func TestListUsersClampsArguments(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})

	tests := []struct {
		name       string
		startIndex int
		count      int
		wantQuery  url.Values
	}{
		{"count above maximum", 1, 500, url.Values{"startIndex": {"1"}, "count": {"100"}}},
		{"start below one", -3, 10, url.Values{"startIndex": {"1"}, "count": {"10"}}},
		{"negative count", 5, -1, url.Values{"startIndex": {"5"}, "count": {"0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.ListUsers(context.Background(), tt.startIndex, tt.count); err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			requests := srv.Requests()
			got, err := url.ParseQuery(requests[len(requests)-1].Query)
			if err != nil {
				t.Fatalf("parse sent query: %v", err)
			}
			if diff := cmp.Diff(tt.wantQuery, got); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceProviderConfig(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	if err := c.ServiceProviderConfig(context.Background()); err != nil {
		t.Fatalf("ServiceProviderConfig: %v", err)
	}
	requests := srv.Requests()
	if want := "/scim/directory/dir-test/ServiceProviderConfig"; requests[0].Path != want {
		t.Errorf("got path %q, want %q", requests[0].Path, want)
	}
}

// countingLimiter counts Wait calls and returns err.
type countingLimiter struct {
	calls atomic.Int64
	err   error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.calls.Add(1)
	return l.err
}

func TestLimiterCalledPerRequest(t *testing.T) {
	srv := startFake(t)
	limiter := &countingLimiter{}
	c := newClient(t, srv, scim.Options{Limiter: limiter})
	u := addUser(srv, "alex@contoso.com", "work")
	ctx := context.Background()

	if _, err := c.GetUser(ctx, u.ID); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if _, err := c.GetUser(ctx, "missing"); err == nil {
		t.Fatal("GetUser of a missing user: got nil error, want 404")
	}
	if _, err := c.FindUsers(ctx, "userName", "alex@contoso.com"); err != nil {
		t.Fatalf("FindUsers: %v", err)
	}
	if _, err := c.ListUsers(ctx, 1, 10); err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if _, err := c.PatchUser(ctx, u.ID, []scim.Operation{scim.ReplaceUserName("alex2@contoso.com")}); err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	if err := c.ServiceProviderConfig(ctx); err != nil {
		t.Fatalf("ServiceProviderConfig: %v", err)
	}

	requests := int64(len(srv.Requests()))
	if requests != 6 {
		t.Errorf("got %d requests, want 6", requests)
	}
	if got := limiter.calls.Load(); got != requests {
		t.Errorf("got %d limiter calls, want %d, one per request", got, requests)
	}
}

func TestLimiterErrorStopsRequest(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{Limiter: &countingLimiter{err: context.DeadlineExceeded}})

	_, err := c.GetUser(context.Background(), "any")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want it to wrap %v", err, context.DeadlineExceeded)
	}
	if fe := asFailure(t, err); fe.Class != failure.Retryable {
		t.Errorf("got class %v, want %v", fe.Class, failure.Retryable)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, scim.Options{})
	srv.SetLatency(time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetUser(ctx, "any")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want it to wrap %v", err, context.DeadlineExceeded)
	}
	if fe := asFailure(t, err); fe.Class != failure.Retryable {
		t.Errorf("got class %v, want %v", fe.Class, failure.Retryable)
	}
}

// addUser adds a user whose userName and only email are address.
func addUser(srv *fakescim.Server, address, emailType string) scim.User {
	return srv.AddUser(scim.User{
		UserName: address,
		Emails:   []scim.Email{{Value: address, Type: emailType, Primary: true}},
		Active:   boolPtr(true),
	})
}
