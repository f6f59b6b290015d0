package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
)

// deltaSelect is the $select of a full delta round. Graph tracks changes
// of the selected properties only, and a delta or next link keeps the
// selection of the round that issued it.
var deltaSelect = []string{"id", "userPrincipalName", "mail"}

// DeltaPage and DeltaUser are the domain types, so that the Client meets
// subscription.DeltaSource without an adapter.
type (
	DeltaPage = bridge.DeltaPage
	DeltaUser = bridge.DeltaUser
)

// UsersDelta reads one page of the users delta query. An empty link
// starts a full round with GET /users/delta()?$select=id,userPrincipalName,mail.
// Any other link must be an @odata.nextLink or @odata.deltaLink of an
// earlier page, on the client's Graph host.
//
// Every error is a *failure.Error. For an expired delta link Graph sends
// 400 with the code syncStateNotFound for users (410 Gone for some other
// resources), which subscription.ResyncRequired recognizes.
func (c *Client) UsersDelta(ctx context.Context, link string) (DeltaPage, error) {
	ctx, last := withLastResponse(ctx)
	var resp users.DeltaGetResponseable
	var err error
	if link == "" {
		resp, err = c.sdk.Users().Delta().GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: deltaSelect},
		})
	} else {
		if err := c.checkLink(link); err != nil {
			return DeltaPage{}, fmt.Errorf("read users delta page: %w", err)
		}
		resp, err = c.sdk.Users().Delta().WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
	}
	if err != nil {
		return DeltaPage{}, fmt.Errorf("read users delta page: %w", classify(err, last))
	}
	if resp == nil {
		return DeltaPage{}, &failure.Error{Service: service, Class: failure.Retryable,
			Detail: "users delta response without a body"}
	}

	page := DeltaPage{
		NextLink:  deref(resp.GetOdataNextLink()),
		DeltaLink: deref(resp.GetOdataDeltaLink()),
	}
	for _, u := range resp.GetValue() {
		page.Users = append(page.Users, deltaUserFromModel(u))
	}
	return page, nil
}

func deltaUserFromModel(m models.Userable) DeltaUser {
	return DeltaUser{
		ID:                deref(m.GetId()),
		UserPrincipalName: deref(m.GetUserPrincipalName()),
		Mail:              deref(m.GetMail()),
		Removed:           removedReason(m.GetAdditionalData()),
	}
}

// removedReason returns the reason of an @removed annotation, which the
// SDK's user model keeps in its additional data as a map holding a
// *string (kiota-serialization-json-go v1.1) or a string. It returns ""
// when the user was not removed, and "deleted" when Graph gave no reason.
func removedReason(data map[string]any) string {
	removed, ok := data["@removed"]
	if !ok || removed == nil {
		return ""
	}
	fields, _ := removed.(map[string]any)
	switch reason := fields["reason"].(type) {
	case *string:
		if reason != nil && *reason != "" {
			return *reason
		}
	case string:
		if reason != "" {
			return reason
		}
	}
	return "deleted"
}

// checkLink makes sure that a next or delta link points at the client's
// Graph host, so that a link from elsewhere, such as one stored while
// GRAPH_BASE_URL named another cloud, is never followed.
func (c *Client) checkLink(link string) error {
	u, err := url.Parse(link)
	base, baseErr := url.Parse(c.baseURL)
	if err != nil || baseErr != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return &failure.Error{Service: service, Class: failure.Permanent,
			Detail: fmt.Sprintf("link %q is not on the Graph host %s", link, c.baseURL)}
	}
	return nil
}
