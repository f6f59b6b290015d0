package scim_test

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/scim"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testToken = "test-directory-key-7d41c"

// startFake starts a fake directory and, when the test ends, checks that
// the client sent no PUT or DELETE.
func startFake(t *testing.T) *fakescim.Server {
	t.Helper()
	srv, err := fakescim.Start(fakescim.Options{Token: testToken, DirectoryID: "dir-test"})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(func() {
		srv.Close()
		for _, r := range srv.Requests() {
			if r.Method == http.MethodPut || r.Method == http.MethodDelete {
				t.Errorf("client sent %s %s, want only GET and PATCH", r.Method, r.Path)
			}
		}
	})
	return srv
}

// newClient returns a client for srv that trusts its certificate, unless
// opts already sets an HTTP client.
func newClient(t *testing.T, srv *fakescim.Server, opts scim.Options) *scim.Client {
	t.Helper()
	if opts.HTTPClient == nil {
		opts.HTTPClient = srv.Client()
	}
	c, err := scim.New(srv.BaseURL(), testToken, opts)
	if err != nil {
		t.Fatalf("scim.New: %v", err)
	}
	return c
}

func asFailure(t *testing.T, err error) *failure.Error {
	t.Helper()
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want a *failure.Error", err, err)
	}
	return fe
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return data
}

// assertGolden compares got with testdata/name, or rewrites the file when
// the test runs with -update.
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(bytes.Clone(got), '\n'), 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
		t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
	}
}

func boolPtr(b bool) *bool { return &b }
