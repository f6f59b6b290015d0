package metrics

import "testing"

func TestPathTemplate(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{"graph user", "/v1.0/users/6a3c4f3e-2b1d-4c5e-9f8a-1b2c3d4e5f60", "/v1.0/users/{id}"},
		{"graph user by upn", "/v1.0/users/alice@contoso.com", "/v1.0/users/{id}"},
		{"graph delta", "/v1.0/users/delta()", "/v1.0/users/delta()"},
		{"graph subscriptions", "/v1.0/subscriptions", "/v1.0/subscriptions"},
		{"graph reauthorize", "/v1.0/subscriptions/7f1e/reauthorize", "/v1.0/subscriptions/{id}/reauthorize"},
		{"scim user", "/scim/directory/dir-1/Users/abc-123", "/scim/directory/{id}/Users/{id}"},
		{"scim users", "/scim/directory/dir-1/Users", "/scim/directory/{id}/Users"},
		{"scim config", "/scim/directory/dir-1/ServiceProviderConfig", "/scim/directory/{id}/ServiceProviderConfig"},
		{"entra token", "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token", "/{id}/oauth2/v2.0/token"},
		{
			"entra openid configuration",
			"/tenant-1/v2.0/.well-known/openid-configuration",
			"/{id}/v2.0/.well-known/openid-configuration",
		},
		{"managed identity", "/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token"},
		{"case differs from api", "/v1.0/USERS/x", "/v1.0/{id}/{id}"},
		{"root", "/", "/"},
		{"empty", "", "/"},
		{"repeated slashes", "//v1.0//users/", "/v1.0/users"},
		{"deep path", "/a/b/c/d/e/f/g/h/i/j", "/{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}/..."},
		{"eight segments kept", "/a/b/c/d/e/f/g/h", "/{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pathTemplate(tt.path); got != tt.want {
				t.Errorf("pathTemplate(%q): got %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestMethodLabel(t *testing.T) {
	tests := []struct {
		method string
		want   string
	}{
		{"", "GET"},
		{"GET", "GET"},
		{"PATCH", "PATCH"},
		{"DELETE", "DELETE"},
		{"PROPFIND", "other"},
		{"patch", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			if got := methodLabel(tt.method); got != tt.want {
				t.Errorf("methodLabel(%q): got %q, want %q", tt.method, got, tt.want)
			}
		})
	}
}
