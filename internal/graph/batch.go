package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entrabridge/entrabridge/internal/failure"
)

// maxBatchRequests is the most requests Graph accepts in one JSON batch.
const maxBatchRequests = 20

// GetUsers reads users by object ID or userPrincipalName with JSON
// batching: one POST /$batch per 20 IDs, each item a GET of the user
// with the $select of GetUser. The batches go out one after another, and
// the Limiter counts each batch as one request.
//
// It returns the users it read and, for every other ID, a *failure.Error
// classified as GetUser classifies it: NotFound for 404, Retryable for
// 429 and 5xx with RetryAfter from the item's Retry-After header, and
// Permanent for other 4xx. When a whole batch fails, every ID of that
// batch gets the batch's error. Repeated IDs are read once.
func (c *Client) GetUsers(ctx context.Context, ids []string) (map[string]User, map[string]error) {
	found := make(map[string]User, len(ids))
	failed := make(map[string]error)
	seen := make(map[string]bool, len(ids))
	var pending []string
	for _, id := range ids {
		switch {
		case seen[id]:
			continue
		case id == "":
			// Without a key the request would list users.
			failed[id] = &failure.Error{Service: service, Class: failure.Permanent, Detail: "user ID is empty"}
		default:
			pending = append(pending, id)
		}
		seen[id] = true
	}

	for chunk := range slices.Chunk(pending, maxBatchRequests) {
		c.getUserBatch(ctx, chunk, found, failed)
	}
	return found, failed
}

// getUserBatch reads up to 20 users with one JSON batch, adding each to
// found or failed.
func (c *Client) getUserBatch(ctx context.Context, ids []string, found map[string]User, failed map[string]error) {
	adapter := c.sdk.GetAdapter()
	batch := msgraphcore.NewBatchRequest(adapter)
	itemIDs := make(map[string]string, len(ids))
	for _, id := range ids {
		info, err := c.userRequestInformation(ctx, id)
		if err == nil {
			var item msgraphcore.BatchItem
			item, err = batch.AddBatchRequestStep(*info)
			if err == nil {
				itemIDs[*item.GetId()] = id
				continue
			}
		}
		failed[id] = &failure.Error{Service: service, Class: failure.Permanent,
			Detail: "build batch request", Err: err}
	}
	if len(itemIDs) == 0 {
		return
	}

	ctx, last := withLastResponse(ctx)
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		err = fmt.Errorf("send graph batch of %d user reads: %w", len(itemIDs), classify(err, last))
		for _, id := range itemIDs {
			failed[id] = err
		}
		return
	}
	for itemID, id := range itemIDs {
		u, err := batchUser(resp.GetResponseById(itemID))
		if err != nil {
			failed[id] = fmt.Errorf("get graph user %s: %w", id, err)
			continue
		}
		found[id] = u
	}
}

// userRequestInformation returns the request GetUser would send for id.
func (c *Client) userRequestInformation(ctx context.Context, id string) (*abstractions.RequestInformation, error) {
	request := c.sdk.Users().ByUserId(id)
	config := &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{
			Select: strings.Split(userSelect, ","),
		},
	}
	if strings.HasPrefix(id, "$") {
		request = request.WithUrl(c.quotedUserURL(id))
		config = nil
	}
	return request.ToGetRequestInformation(ctx, config)
}

// batchUser decodes one item of a batch response into a User, or
// classifies its error status.
func batchUser(item msgraphcore.BatchItem) (User, error) {
	if item == nil || item.GetStatus() == nil {
		return User{}, &failure.Error{Service: service, Class: failure.Retryable,
			Detail: "batch response has no response for the request"}
	}
	status := int(*item.GetStatus())
	body, err := json.Marshal(item.GetBody())
	if err != nil {
		return User{}, &failure.Error{Service: service, Class: failure.Retryable, Status: status,
			Detail: "unreadable batch response body", Err: err}
	}
	if status >= http.StatusBadRequest {
		return User{}, batchItemFailure(status, item.GetHeaders(), body)
	}

	var u struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
		Mail              string `json:"mail"`
		DisplayName       string `json:"displayName"`
		AccountEnabled    *bool  `json:"accountEnabled"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.ID == "" {
		return User{}, &failure.Error{Service: service, Class: failure.Retryable, Status: status,
			Detail: "batch response body is not a user", Err: err}
	}
	return User{ID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail,
		DisplayName: u.DisplayName, AccountEnabled: u.AccountEnabled}, nil
}

// batchItemFailure classifies an error response inside a batch as
// responseFailure classifies a response of its own.
func batchItemFailure(status int, headers msgraphcore.RequestHeader, body []byte) *failure.Error {
	h := make(http.Header, len(headers))
	for key, value := range headers {
		h.Set(key, value)
	}
	var graphError struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &graphError) // An unreadable body leaves Code and Detail empty.
	return &failure.Error{
		Service:    service,
		Class:      failure.ClassOfStatus(status),
		Status:     status,
		Code:       graphError.Error.Code,
		Detail:     graphError.Error.Message,
		RetryAfter: failure.ParseRetryAfter(h, time.Now()),
	}
}
