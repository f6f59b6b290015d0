package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// PatchOpSchema is the schema URN of a PATCH request body (RFC 7644
// section 3.5.2).
const PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// WorkEmailValuePath is the PATCH path of the work email's address. The
// service rejects it with 400 noTarget when the user has no email of type
// work, so use ReplaceEmails for such users.
const WorkEmailValuePath = `emails[type eq "work"].value`

// Operation is one PATCH operation. Op is "add", "remove" or "replace".
// An empty Path applies Value, an object of attributes, to the resource.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// patchRequest is the body of a PATCH request. Atlassian's OpenAPI spells
// the array "operations", but RFC 7644 names it "Operations" and that is
// what is sent.
type patchRequest struct {
	Schemas    []string    `json:"schemas"`
	Operations []Operation `json:"Operations"`
}

// ReplaceUserName returns an operation that sets userName to v.
func ReplaceUserName(v string) Operation {
	return Operation{Op: "replace", Path: "userName", Value: v}
}

// ReplaceWorkEmailValue returns an operation that sets the address of the
// email of type work to v, keeping its other sub-attributes.
func ReplaceWorkEmailValue(v string) Operation {
	return Operation{Op: "replace", Path: WorkEmailValuePath, Value: v}
}

// ReplaceEmails returns an operation that replaces all of the user's emails
// with v as the one primary work email.
func ReplaceEmails(v string) Operation {
	return Operation{Op: "replace", Path: "emails",
		Value: []Email{{Value: v, Type: workEmailType, Primary: true}}}
}

// PatchBody encodes ops as a PATCH request body:
// {"schemas":[PatchOpSchema],"Operations":[...]}. HTML characters stay
// unescaped, so an address with & is sent as written.
func PatchBody(ops []Operation) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	body := patchRequest{Schemas: []string{PatchOpSchema}, Operations: ops}
	if err := enc.Encode(body); err != nil {
		return nil, fmt.Errorf("encode scim patch body: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// PatchUser applies ops to the user with SCIM id and returns the user from
// the response. If the service responds with 204 No Content, which RFC
// 7644 allows, PatchUser reads the user with GetUser, one more request.
//
// The service applies the operations all or none (RFC 7644 section 3.5.2).
func (c *Client) PatchUser(ctx context.Context, id string, ops []Operation) (User, error) {
	if id == "" {
		return User{}, invalidArgument("patch scim user: id is empty")
	}
	if len(ops) == 0 {
		return User{}, invalidArgument("patch scim user %s: no operations", id)
	}
	body, err := PatchBody(ops)
	if err != nil {
		return User{}, invalidArgument("patch scim user %s: %v", id, err)
	}

	var user User
	status, err := c.patch(ctx, userRef(id), body, &user)
	if err != nil {
		return User{}, fmt.Errorf("patch scim user %s: %w", id, err)
	}
	if status == http.StatusNoContent {
		return c.GetUser(ctx, id)
	}
	return user, nil
}
