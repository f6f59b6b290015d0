package graph

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// Probe lists at most one user, selecting only its id, to check that the
// credential may read users (User.Read.All). Errors are *failure.Error as
// in GetUser.
func (c *Client) Probe(ctx context.Context) error {
	top := int32(1)
	config := &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
			Top:    &top,
			Select: []string{"id"},
		},
	}
	ctx, last := withLastResponse(ctx)
	if _, err := c.sdk.Users().Get(ctx, config); err != nil {
		return fmt.Errorf("list graph users: %w", classify(err, last))
	}
	return nil
}
