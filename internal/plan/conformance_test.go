package plan_test

// The tests in this file send the bridge's PATCH requests to a SCIM server
// that the project did not write, github.com/elimity-com/scim, which
// validates every operation path against the RFC 7643 User schema before
// its resource handler receives it. The handler below applies the operations
// to users kept in a map, so the tests can read back what a service that
// follows the RFCs would store.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	elimity "github.com/elimity-com/scim"
	elimityerrors "github.com/elimity-com/scim/errors"
	elimityfilter "github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
)

const (
	conformanceToken    = "conformance-directory-key-9a3e"
	conformanceBasePath = "/scim/directory/conformance"
)

// storedUser is one user of a directory: its externalId and the rest of
// its attributes as the elimity server validated them.
type storedUser struct {
	externalID string
	attributes elimity.ResourceAttributes
}

// directory is an elimity ResourceHandler for Users backed by a map. It
// models replace on userName, on emails and on emails[<filter>] with an
// optional sub-attribute, because those are the operations the bridge
// sends. Anything else is rejected so that a test notices it.
type directory struct {
	mu    sync.Mutex
	users map[string]storedUser
	// paths are the parsed paths of every PATCH operation received.
	paths []filter.Path
}

func (d *directory) put(id, externalID, userName string, emails []any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[id] = storedUser{
		externalID: externalID,
		attributes: elimity.ResourceAttributes{"userName": userName, "emails": emails},
	}
}

func (d *directory) receivedPaths() []filter.Path {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.paths)
}

func (d *directory) resource(id string, u storedUser) elimity.Resource {
	return elimity.Resource{
		ID:         id,
		ExternalID: optional.NewString(u.externalID),
		Attributes: cloneAttributes(u.attributes),
	}
}

// Get implements elimity.ResourceHandler.
func (d *directory) Get(_ *http.Request, id string) (elimity.Resource, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[id]
	if !ok {
		return elimity.Resource{}, elimityerrors.ScimErrorResourceNotFound(id)
	}
	return d.resource(id, u), nil
}

// Patch implements elimity.ResourceHandler. It applies the operations all
// or none, as RFC 7644 section 3.5.2 requires.
func (d *directory) Patch(_ *http.Request, id string, operations []elimity.PatchOperation) (elimity.Resource, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[id]
	if !ok {
		return elimity.Resource{}, elimityerrors.ScimErrorResourceNotFound(id)
	}

	attributes := cloneAttributes(u.attributes)
	for _, op := range operations {
		if op.Path != nil {
			d.paths = append(d.paths, *op.Path)
		}
		if err := applyReplace(attributes, op); err != nil {
			return elimity.Resource{}, err
		}
	}
	u.attributes = attributes
	d.users[id] = u
	return d.resource(id, u), nil
}

// notModelled is the error of every method the bridge must never call.
var notModelled = elimityerrors.ScimError{Status: http.StatusNotImplemented,
	Detail: "the conformance directory models only GET and PATCH of one user"}

// Create implements elimity.ResourceHandler.
func (d *directory) Create(*http.Request, elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{}, notModelled
}

// GetAll implements elimity.ResourceHandler.
func (d *directory) GetAll(*http.Request, elimity.ListRequestParams) (elimity.Page, error) {
	return elimity.Page{}, notModelled
}

// Replace implements elimity.ResourceHandler.
func (d *directory) Replace(*http.Request, string, elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{}, notModelled
}

// Delete implements elimity.ResourceHandler.
func (d *directory) Delete(*http.Request, string) error {
	return notModelled
}

// applyReplace applies one validated replace operation to attributes.
func applyReplace(attributes elimity.ResourceAttributes, op elimity.PatchOperation) error {
	if op.Op != elimity.PatchOperationReplace {
		return elimityerrors.ScimErrorBadRequest("only replace is modelled, got " + op.Op)
	}
	if op.Path == nil {
		return elimityerrors.ScimErrorBadRequest("a path-less replace is not modelled")
	}
	path := *op.Path
	switch {
	case strings.EqualFold(path.AttributePath.String(), "userName") && path.ValueExpression == nil:
		attributes["userName"] = op.Value
		return nil
	case strings.EqualFold(path.AttributePath.String(), "emails") && path.ValueExpression == nil:
		attributes["emails"] = op.Value
		return nil
	case strings.EqualFold(path.AttributePath.String(), "emails"):
		return replaceSelectedEmails(attributes, path, op.Value)
	}
	return elimityerrors.ScimErrorBadRequest("path " + path.String() + " is not modelled")
}

// replaceSelectedEmails replaces the emails that the path's value filter
// selects, or one sub-attribute of each. A filter that selects nothing is
// 400 noTarget (RFC 7644 section 3.5.2.3).
func replaceSelectedEmails(attributes elimity.ResourceAttributes, path filter.Path, value any) error {
	emailsAttribute, _ := schema.CoreUserSchema().Attributes.ContainsAttribute("emails")
	selector := elimityfilter.NewFilterValidator(path.ValueExpression, schema.Schema{
		ID:         schema.CoreUserSchema().ID,
		Attributes: emailsAttribute.SubAttributes(),
	})

	emails, _ := attributes["emails"].([]any)
	selected := 0
	for i, e := range emails {
		email, ok := e.(map[string]any)
		if !ok || selector.PassesFilter(email) != nil {
			continue
		}
		selected++
		if path.SubAttribute == nil {
			emails[i] = value
			continue
		}
		sub, _ := emailsAttribute.SubAttributes().ContainsAttribute(*path.SubAttribute)
		email[sub.Name()] = value
	}
	if selected == 0 {
		return elimityerrors.ScimErrorNoTarget
	}
	return nil
}

// cloneAttributes copies attributes deeply enough that a failed PATCH
// leaves the stored user as it was.
func cloneAttributes(attributes elimity.ResourceAttributes) elimity.ResourceAttributes {
	out := maps.Clone(attributes)
	if emails, ok := out["emails"].([]any); ok {
		copied := make([]any, len(emails))
		for i, e := range emails {
			if email, ok := e.(map[string]any); ok {
				e = maps.Clone(email)
			}
			copied[i] = e
		}
		out["emails"] = copied
	}
	return out
}

// recordedRequest is one request the conformance server received.
type recordedRequest struct {
	method      string
	path        string
	contentType string
	body        []byte
}

// conformanceServer is an elimity SCIM server for Users on 127.0.0.1 behind
// a bearer-token check, under an Atlassian-like base path.
type conformanceServer struct {
	dir     *directory
	baseURL string

	mu       sync.Mutex
	requests []recordedRequest
}

func startConformanceServer(t *testing.T) *conformanceServer {
	t.Helper()
	dir := &directory{users: map[string]storedUser{}}
	server, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{SupportPatch: true},
		ResourceTypes: []elimity.ResourceType{{
			ID:       optional.NewString("User"),
			Name:     "User",
			Endpoint: "/Users",
			Schema:   schema.CoreUserSchema(),
			Handler:  dir,
		}},
	})
	if err != nil {
		t.Fatalf("elimity NewServer: %v", err)
	}

	s := &conformanceServer{dir: dir}
	handler := s.record(http.StripPrefix(conformanceBasePath, server))

	// An explicit listener keeps the server on 127.0.0.1 even when the
	// -httptest.serve flag is set.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	httpServer := httptest.NewUnstartedServer(handler)
	httpServer.Listener.Close()
	httpServer.Listener = listener
	httpServer.Start()
	t.Cleanup(httpServer.Close)
	s.baseURL = httpServer.URL + conformanceBasePath
	return s
}

// record stores each request and rejects it unless it carries the token.
func (s *conformanceServer) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.requests = append(s.requests, recordedRequest{
			method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: body,
		})
		s.mu.Unlock()

		if r.Header.Get("Authorization") != "Bearer "+conformanceToken {
			http.Error(w, "missing or invalid bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *conformanceServer) recorded() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *conformanceServer) client(t *testing.T) *scim.Client {
	t.Helper()
	c, err := scim.New(s.baseURL, conformanceToken, scim.Options{})
	if err != nil {
		t.Fatalf("scim.New: %v", err)
	}
	return c
}

// assertUserSchemaPath checks that path targets an attribute of the RFC
// 7643 User schema, and that a value filter in it names only
// sub-attributes of that attribute.
func assertUserSchemaPath(t *testing.T, path filter.Path) {
	t.Helper()
	user := schema.CoreUserSchema()
	if uri := path.AttributePath.URI(); uri != "" && uri != user.ID {
		t.Errorf("path %s: got schema %q, want %q or none", path, uri, user.ID)
	}
	attribute, ok := user.Attributes.ContainsAttribute(path.AttributePath.AttributeName)
	if !ok {
		t.Errorf("path %s: User has no attribute %q", path, path.AttributePath.AttributeName)
		return
	}
	for _, sub := range []string{path.AttributePath.SubAttributeName(), path.SubAttributeName()} {
		if _, ok := attribute.SubAttributes().ContainsAttribute(sub); sub != "" && !ok {
			t.Errorf("path %s: %s has no sub-attribute %q", path, attribute.Name(), sub)
		}
	}
	if path.ValueExpression == nil {
		return
	}
	if !attribute.MultiValued() {
		t.Errorf("path %s: value filter on %s, which is single-valued", path, attribute.Name())
	}
	for _, name := range filterAttributeNames(path.ValueExpression) {
		if _, ok := attribute.SubAttributes().ContainsAttribute(name); !ok {
			t.Errorf("path %s: filter names %q, not a sub-attribute of %s", path, name, attribute.Name())
		}
	}
}

// filterAttributeNames returns the attribute names compared in expr.
func filterAttributeNames(expr filter.Expression) []string {
	switch e := expr.(type) {
	case *filter.AttributeExpression:
		return []string{e.AttributePath.AttributeName}
	case *filter.LogicalExpression:
		return append(filterAttributeNames(e.Left), filterAttributeNames(e.Right)...)
	case *filter.NotExpression:
		return filterAttributeNames(e.Expression)
	case *filter.ValuePath:
		return []string{e.AttributePath.AttributeName}
	}
	return nil
}

func email(value, typ string, primary bool) map[string]any {
	e := map[string]any{"value": value}
	if typ != "" {
		e["type"] = typ
	}
	if primary {
		e["primary"] = true
	}
	return e
}

func TestConformancePatch(t *testing.T) {
	tests := []struct {
		name         string
		userName     string
		emails       []any
		user         plan.EntraUser
		alternate    bool
		wantPaths    []string
		wantUserName string
		wantEmails   []scim.Email
	}{
		{
			name:     "typed work email",
			userName: "alex.doe@contoso.com",
			emails: []any{
				email("alex@home.example", "home", true),
				email("alex.doe@contoso.com", "work", false),
			},
			user:         entraUser("alex.smith@contoso.com", "alex.smith@contoso.com"),
			wantPaths:    []string{"userName", `emails[type eq "work"].value`},
			wantUserName: "alex.smith@contoso.com",
			wantEmails: []scim.Email{
				{Value: "alex@home.example", Type: "home", Primary: true},
				{Value: "alex.smith@contoso.com", Type: "work"},
			},
		},
		{
			name:         "typed work email in alternate form",
			userName:     "alex.doe@contoso.com",
			emails:       []any{email("alex.doe@contoso.com", "work", true)},
			user:         entraUser("alex.smith@contoso.com", "alex.smith@contoso.com"),
			alternate:    true,
			wantPaths:    []string{"userName", "emails"},
			wantUserName: "alex.smith@contoso.com",
			wantEmails:   []scim.Email{{Value: "alex.smith@contoso.com", Type: "work", Primary: true}},
		},
		{
			name:         "type-less email",
			userName:     "alex.doe@contoso.com",
			emails:       []any{email("alex.doe@contoso.com", "", true)},
			user:         entraUser("alex.doe@contoso.com", "alex.smith@contoso.com"),
			wantPaths:    []string{"emails"},
			wantUserName: "alex.doe@contoso.com",
			wantEmails:   []scim.Email{{Value: "alex.smith@contoso.com", Type: "work", Primary: true}},
		},
		{
			name:         "guest UPN with apostrophe and #EXT#",
			userName:     "obrien@fabrikam.com",
			emails:       []any{email("obrien@fabrikam.com", "work", true)},
			user:         entraUser(guestUPN, ""),
			wantPaths:    []string{"userName", `emails[type eq "work"].value`},
			wantUserName: guestUPN,
			wantEmails:   []scim.Email{{Value: guestUPN, Type: "work", Primary: true}},
		},
		{
			name:         "guest UPN into type-less email",
			userName:     "obrien@fabrikam.com",
			emails:       []any{email("obrien@fabrikam.com", "", false)},
			user:         entraUser(guestUPN, ""),
			wantPaths:    []string{"userName", "emails"},
			wantUserName: guestUPN,
			wantEmails:   []scim.Email{{Value: guestUPN, Type: "work", Primary: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := startConformanceServer(t)
			srv.dir.put("scim-1", objectID, tt.userName, tt.emails)
			client := srv.client(t)

			current, err := client.GetUser(ctx, "scim-1")
			if err != nil {
				t.Fatalf("GetUser before: %v", err)
			}
			change, err := plan.Policy{}.Plan(tt.user, current)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			ops := change.Operations
			if tt.alternate {
				// As the worker does after noTarget or invalidPath: every
				// operation but the userName one takes the other form.
				for i, op := range ops {
					if op.Path != "userName" {
						ops[i] = plan.EmailOperation(current, change.Email, true)
					}
				}
			}

			patched, err := client.PatchUser(ctx, current.ID, ops)
			if err != nil {
				t.Fatalf("PatchUser: %v", err)
			}
			stored, err := client.GetUser(ctx, current.ID)
			if err != nil {
				t.Fatalf("GetUser after: %v", err)
			}

			if stored.UserName != tt.wantUserName {
				t.Errorf("got userName %q, want %q", stored.UserName, tt.wantUserName)
			}
			work, ok := stored.WorkEmail()
			if !ok || work.Value != change.Email {
				t.Errorf("got work email %q (found %v), want %q", work.Value, ok, change.Email)
			}
			if diff := cmp.Diff(tt.wantEmails, stored.Emails); diff != "" {
				t.Errorf("stored emails (-want +got):\n%s", diff)
			}
			if stored.ExternalID != objectID {
				t.Errorf("got externalId %q, want %q unchanged", stored.ExternalID, objectID)
			}
			if diff := cmp.Diff(stored, patched); diff != "" {
				t.Errorf("PATCH response differs from the stored user (-stored +response):\n%s", diff)
			}

			var gotPaths []string
			for _, p := range srv.dir.receivedPaths() {
				assertUserSchemaPath(t, p)
				gotPaths = append(gotPaths, p.String())
			}
			if diff := cmp.Diff(tt.wantPaths, gotPaths); diff != "" {
				t.Errorf("paths received (-want +got):\n%s", diff)
			}
			assertSentAsBridge(t, srv, ops)
		})
	}
}

// assertSentAsBridge checks that the only requests were GETs and one PATCH
// whose body is scim.PatchBody(ops), sent as application/scim+json.
func assertSentAsBridge(t *testing.T, srv *conformanceServer, ops []scim.Operation) {
	t.Helper()
	want, err := scim.PatchBody(ops)
	if err != nil {
		t.Fatalf("PatchBody: %v", err)
	}
	patches := 0
	for _, r := range srv.recorded() {
		switch r.method {
		case http.MethodGet:
		case http.MethodPatch:
			patches++
			if r.contentType != "application/scim+json" {
				t.Errorf("PATCH Content-Type %q, want application/scim+json", r.contentType)
			}
			if !bytes.Equal(r.body, want) {
				t.Errorf("PATCH body:\ngot  %s\nwant %s", r.body, want)
			}
		default:
			t.Errorf("client sent %s %s, want only GET and PATCH", r.method, r.path)
		}
	}
	if patches != 1 {
		t.Errorf("got %d PATCH requests, want 1", patches)
	}
}

func TestConformanceWorkPathWithoutWorkEmail(t *testing.T) {
	ctx := context.Background()
	srv := startConformanceServer(t)
	srv.dir.put("scim-1", objectID, "alex@contoso.com", []any{email("alex@contoso.com", "", true)})
	client := srv.client(t)
	current, err := client.GetUser(ctx, "scim-1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}

	// The alternate form for a record without a work email is the value
	// filter path, which selects nothing there.
	op := plan.EmailOperation(current, "alex.smith@contoso.com", true)
	_, err = client.PatchUser(ctx, current.ID, []scim.Operation{op})

	fe := asFailure(t, err)
	if fe.Status != http.StatusBadRequest {
		t.Errorf("got status %d, want 400", fe.Status)
	}
	if fe.Code != "noTarget" {
		t.Errorf("got code %q, want noTarget", fe.Code)
	}
	if fe.Class != failure.Permanent {
		t.Errorf("got class %v, want %v", fe.Class, failure.Permanent)
	}
}

// TestConformanceRejectsForeignPath shows that the elimity server checks
// paths against the User schema, so a path that passes above is valid.
func TestConformanceRejectsForeignPath(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		wantCode string
	}{
		{"unknown attribute", "workEmail", "invalidPath"},
		{"unknown sub-attribute", `emails[type eq "work"].address`, "invalidPath"},
		{"filter on unknown sub-attribute", `emails[kind eq "work"].value`, "invalidPath"},
		{"unparsable", `emails[type eq "work".value`, "invalidPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startConformanceServer(t)
			srv.dir.put("scim-1", objectID, "alex@contoso.com", []any{email("alex@contoso.com", "work", true)})

			op := scim.Operation{Op: "replace", Path: tt.path, Value: "alex.smith@contoso.com"}
			_, err := srv.client(t).PatchUser(context.Background(), "scim-1", []scim.Operation{op})

			fe := asFailure(t, err)
			if fe.Status != http.StatusBadRequest {
				t.Errorf("got status %d, want 400", fe.Status)
			}
			if fe.Code != tt.wantCode {
				t.Errorf("got code %q, want %q", fe.Code, tt.wantCode)
			}
			if n := len(srv.dir.receivedPaths()); n != 0 {
				t.Errorf("handler received %d operations, want 0", n)
			}
		})
	}
}

func asFailure(t *testing.T, err error) *failure.Error {
	t.Helper()
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want a *failure.Error", err, err)
	}
	return fe
}

// TestFilterRoundTrip parses each filter scim.Filter writes with
// github.com/scim2/filter-parser, the parser the fake directory and the
// elimity server use. It decodes the compared string with encoding/json,
// because the filter grammar of RFC 7644 section 3.4.2.2 takes its string
// rule from JSON (RFC 7159).
func TestFilterRoundTrip(t *testing.T) {
	values := []struct {
		name  string
		value string
	}{
		{"plain", "alex@contoso.com"},
		{"apostrophe", "o'brien@contoso.com"},
		{"guest UPN", guestUPN},
		{"double quote", `a"b@contoso.com`},
		{"backslash", `a\b@contoso.com`},
		{"escaped quote lookalike", `a\"b`},
		{"unicode escape lookalike", `a\u0022b`},
		{"only quotes", `""`},
		{"trailing backslash", `abc\`},
		{"filter injection", `x" or userName pr or userName eq "y`},
		{"brackets and parentheses", `a[type eq "work"](b)`},
		{"html characters", `<a href="x">&amp;</a>`},
		{"newline, tab and carriage return", "a\nb\tc\rd"},
		{"NUL and other control characters", "a\x00b\x01c\x1fd\x7fe"},
		{"accented", "zoë.ångström@contoso.com"},
		{"combining mark", "e\u0301@contoso.com"},
		{"CJK", "山田太郎@contoso.com"},
		{"emoji outside the BMP", "🦊@contoso.com"},
		{"line and paragraph separators", "a\u2028b\u2029c"},
		{"byte order mark", "\ufeffalex"},
		{"empty", ""},
	}
	for _, attr := range []string{"userName", "externalId"} {
		for _, v := range values {
			t.Run(attr+"/"+v.name, func(t *testing.T) {
				raw := scim.Filter(attr, v.value)
				expr, err := filter.ParseFilter([]byte(raw))
				if err != nil {
					t.Fatalf("parse %s: %v", raw, err)
				}
				comparison, ok := expr.(*filter.AttributeExpression)
				if !ok {
					t.Fatalf("parse %s: got %T %v, want one attribute expression", raw, expr, expr)
				}
				if comparison.AttributePath.String() != attr {
					t.Errorf("got attribute %q, want %q", comparison.AttributePath, attr)
				}
				if comparison.Operator != filter.EQ {
					t.Errorf("got operator %q, want eq", comparison.Operator)
				}
				value := comparison.CompareValue
				literal, ok := value.(string)
				if !ok {
					t.Fatalf("got compare value %v (%T), want a string", value, value)
				}
				var got string
				if err := json.Unmarshal([]byte(`"`+literal+`"`), &got); err != nil {
					t.Fatalf("decode string literal %q of %s: %v", literal, raw, err)
				}
				if got != v.value {
					t.Errorf("value round trip: got %q, want %q", got, v.value)
				}
			})
		}
	}
}
