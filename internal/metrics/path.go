package metrics

import "strings"

// maxPathSegments is how many path segments a path template keeps. The
// deepest path the bridge calls, a SCIM user, has five.
const maxPathSegments = 8

// pathWords are the path segments of the Graph, Atlassian SCIM and Entra
// endpoints the bridge calls, spelled as those APIs spell them. Any other
// segment is an identifier or a value the bridge does not know.
var pathWords = map[string]bool{
	// Microsoft Graph.
	"v1.0": true, "beta": true, "$batch": true,
	"users": true, "delta": true, "delta()": true,
	"subscriptions": true, "reauthorize": true,
	// Atlassian SCIM (RFC 7644 endpoints).
	"scim": true, "directory": true, "Users": true, "Groups": true, "Me": true,
	"ServiceProviderConfig": true, "Schemas": true, "ResourceTypes": true, ".search": true,
	// Entra ID token, discovery and managed identity endpoints.
	"oauth2": true, "v2.0": true, "token": true, "authorize": true, "devicecode": true,
	".well-known": true, "openid-configuration": true, "discovery": true, "instance": true,
	"common": true, "organizations": true, "consumers": true,
	"metadata": true, "identity": true, "msi": true,
}

// pathTemplate returns path with every segment not in pathWords replaced by
// "{id}" and at most maxPathSegments segments, followed by "/..." when
// there were more. Matching is exact, because Graph spells "users" and
// SCIM "Users". Empty segments are dropped.
func pathTemplate(path string) string {
	var b strings.Builder
	written := 0
	for segment := range strings.SplitSeq(path, "/") {
		if segment == "" {
			continue
		}
		if written == maxPathSegments {
			b.WriteString("/...")
			break
		}
		b.WriteByte('/')
		if pathWords[segment] {
			b.WriteString(segment)
		} else {
			b.WriteString("{id}")
		}
		written++
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
