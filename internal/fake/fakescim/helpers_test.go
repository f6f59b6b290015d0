package fakescim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/scim"
)

const testToken = "fake-token-0c2e"

func start(t *testing.T) *fakescim.Server {
	t.Helper()
	srv, err := fakescim.Start(fakescim.Options{Token: testToken, DirectoryID: "dir-1"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// response is a decoded reply from the fake.
type response struct {
	status int
	header http.Header
	body   []byte
}

// scimError decodes the body as a SCIM error.
func (r response) scimError(t *testing.T) (scimType, detail string) {
	t.Helper()
	var e struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decode SCIM error %q: %v", r.body, err)
	}
	if len(e.Schemas) != 1 || !strings.HasSuffix(e.Schemas[0], ":Error") {
		t.Errorf("got schemas %v, want one error URN", e.Schemas)
	}
	if want := strconv.Itoa(r.status); e.Status != want {
		t.Errorf("got status %q in body, want %q", e.Status, want)
	}
	return e.ScimType, e.Detail
}

func (r response) user(t *testing.T) scim.User {
	t.Helper()
	var u scim.User
	if err := json.Unmarshal(r.body, &u); err != nil {
		t.Fatalf("decode user %q: %v", r.body, err)
	}
	return u
}

// send makes a request to the fake with the right token and, when body is
// not empty, Content-Type application/scim+json. header overrides both.
func send(t *testing.T, srv *fakescim.Server, method, ref, body string, header http.Header) response {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.BaseURL()+ref, reader)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, ref, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func boolPtr(b bool) *bool { return &b }

// workUser returns an active user whose userName and only email, a primary
// work email, are address.
func workUser(address string) scim.User {
	return scim.User{
		UserName: address,
		Emails:   []scim.Email{{Value: address, Type: "work", Primary: true}},
		Active:   boolPtr(true),
	}
}
