package scim

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxPageSize is the largest count that ListUsers requests. Atlassian
// returns pages of at most 100 users.
const MaxPageSize = 100

// ListResponse is a page of users (RFC 7644 section 3.4.2).
type ListResponse struct {
	TotalResults int `json:"totalResults"`
	// StartIndex is the 1-based index of the first resource in the page.
	StartIndex   int    `json:"startIndex"`
	ItemsPerPage int    `json:"itemsPerPage"`
	Resources    []User `json:"Resources"`
}

// GetUser reads the user with SCIM id. A deleted or deactivated user is a
// *failure.Error of class NotFound.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	if id == "" {
		return User{}, invalidArgument("get scim user: id is empty")
	}
	var user User
	if _, err := c.get(ctx, userRef(id), &user); err != nil {
		return User{}, fmt.Errorf("get scim user %s: %w", id, err)
	}
	return user, nil
}

// FindUsers returns the users whose attr equals value, by sending
// GET /Users?filter=<attr> eq "<value>". attr must be "userName" or
// "externalId", the only filters Atlassian accepts. Atlassian compares
// externalId case-sensitively.
func (c *Client) FindUsers(ctx context.Context, attr, value string) ([]User, error) {
	if attr != "userName" && attr != "externalId" {
		return nil, invalidArgument("find scim users: filter attribute %q is not supported, use userName or externalId", attr)
	}
	query := url.Values{"filter": {Filter(attr, value)}}
	var page ListResponse
	if _, err := c.get(ctx, "/Users?"+encodeQuery(query), &page); err != nil {
		return nil, fmt.Errorf("find scim users by %s: %w", attr, err)
	}
	return page.Resources, nil
}

// ListUsers reads one page of users. startIndex is 1-based and values below
// 1 mean 1. count is capped at MaxPageSize, and a negative count means 0,
// as RFC 7644 section 3.4.2.4 specifies.
func (c *Client) ListUsers(ctx context.Context, startIndex, count int) (ListResponse, error) {
	startIndex = max(startIndex, 1)
	count = min(max(count, 0), MaxPageSize)
	query := url.Values{
		"startIndex": {strconv.Itoa(startIndex)},
		"count":      {strconv.Itoa(count)},
	}
	var page ListResponse
	if _, err := c.get(ctx, "/Users?"+encodeQuery(query), &page); err != nil {
		return ListResponse{}, fmt.Errorf("list scim users from index %d: %w", startIndex, err)
	}
	return page, nil
}

// ServiceProviderConfig reads /ServiceProviderConfig and returns nil when
// the service responds with 2xx, which confirms the base URL and the token.
func (c *Client) ServiceProviderConfig(ctx context.Context) error {
	if _, err := c.get(ctx, "/ServiceProviderConfig", nil); err != nil {
		return fmt.Errorf("get scim service provider config: %w", err)
	}
	return nil
}

func userRef(id string) string {
	return "/Users/" + url.PathEscape(id)
}

// encodeQuery encodes spaces as %20 instead of +, because RFC 3986 gives +
// no special meaning in a query and not every server decodes it as a space.
// A literal + in a value is already encoded as %2B, so the replacement is
// unambiguous.
func encodeQuery(query url.Values) string {
	return strings.ReplaceAll(query.Encode(), "+", "%20")
}
