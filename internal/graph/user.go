package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entrabridge/entrabridge/internal/failure"
)

// userSelect is the $select of GetUser. accountEnabled is not among
// Graph's default user properties, so it must be selected by name.
const userSelect = "id,userPrincipalName,mail,displayName,accountEnabled"

// User is the part of an Entra user the bridge syncs.
type User struct {
	ID                string
	UserPrincipalName string
	// Mail is empty for a user without an Exchange mailbox.
	Mail        string
	DisplayName string
	// AccountEnabled is nil when Graph did not return it.
	AccountEnabled *bool
}

// GetUser reads one user by object ID or userPrincipalName, selecting
// id, userPrincipalName, mail, displayName and accountEnabled.
//
// Every error is a *failure.Error: NotFound for 404, Permanent for 400,
// 401 and 403 and for a rejected credential, and Retryable for 429, 5xx,
// timeouts and connection errors, with RetryAfter from Graph's
// Retry-After header.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	// Without a key the SDK would send GET /users, which lists users.
	if id == "" {
		return User{}, &failure.Error{Service: service, Class: failure.Permanent, Detail: "user ID is empty"}
	}

	request := c.sdk.Users().ByUserId(id)
	config := &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{
			Select: strings.Split(userSelect, ","),
		},
	}
	// Graph reads a path segment that starts with "$" as a system query
	// option and rejects it with 400, so such a key goes in parentheses,
	// which the request builder cannot express.
	if strings.HasPrefix(id, "$") {
		request = request.WithUrl(c.quotedUserURL(id))
		config = nil
	}

	ctx, last := withLastResponse(ctx)
	result, err := request.Get(ctx, config)
	if err != nil {
		return User{}, fmt.Errorf("get graph user %s: %w", id, classify(err, last))
	}
	return userFromModel(result), nil
}

// quotedUserURL returns the URL of users('key') with the $select of
// GetUser. Inside the OData string literal a single quote is doubled.
func (c *Client) quotedUserURL(key string) string {
	literal := strings.ReplaceAll(key, "'", "''")
	return c.baseURL + "/users('" + url.PathEscape(literal) + "')?$select=" + userSelect
}

func userFromModel(m models.Userable) User {
	if m == nil {
		return User{}
	}
	return User{
		ID:                deref(m.GetId()),
		UserPrincipalName: deref(m.GetUserPrincipalName()),
		Mail:              deref(m.GetMail()),
		DisplayName:       deref(m.GetDisplayName()),
		AccountEnabled:    m.GetAccountEnabled(),
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
