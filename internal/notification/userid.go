package notification

import (
	"errors"
	"fmt"
	"strings"
)

// UserID returns the Entra object ID of the user the item is about, in lower
// case. It takes resourceData.id when present, otherwise the resource path
// ("Users/<id>", "users('<id>')" or "/users/<id>", in any letter case),
// otherwise resourceData.@odata.id. The ID must be GUID-shaped, because
// Entra object IDs are GUIDs and anything else cannot name a user.
//
// Lower case makes the same user from differently cased resources one queue
// key. Graph itself returns object IDs in lower case.
func (it Item) UserID() (string, error) {
	if id := it.ResourceData.ID; id != "" {
		if !isGUID(id) {
			return "", fmt.Errorf("resourceData.id %.80q is not an Entra object ID (a GUID)", id)
		}
		return strings.ToLower(id), nil
	}
	if it.Resource != "" {
		return userIDFromPath("resource", it.Resource)
	}
	if it.ResourceData.ODataID != "" {
		return userIDFromPath("resourceData.@odata.id", it.ResourceData.ODataID)
	}
	return "", errors.New("no user ID: resourceData.id, resource and resourceData.@odata.id are empty")
}

// userIDFromPath extracts the object ID from a users resource path. field
// names where the path came from, for the error.
func userIDFromPath(field, path string) (string, error) {
	rest := strings.TrimPrefix(path, "/")
	if len(rest) < len("users") || !strings.EqualFold(rest[:len("users")], "users") {
		return "", fmt.Errorf("%s %.80q is not a users resource", field, path)
	}
	rest = rest[len("users"):]

	var id string
	switch {
	case strings.HasPrefix(rest, "/"):
		id = rest[1:]
	case len(rest) >= 4 && strings.HasPrefix(rest, "('") && strings.HasSuffix(rest, "')"):
		id = rest[2 : len(rest)-2]
	default:
		return "", fmt.Errorf("%s %.80q is not a users resource", field, path)
	}

	if !isGUID(id) {
		return "", fmt.Errorf("%s %.80q does not end in an Entra object ID (a GUID)", field, path)
	}
	return strings.ToLower(id), nil
}

// isGUID reports whether s has the 8-4-4-4-12 hexadecimal form of a GUID.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
