package scim

import (
	"encoding/json"
	"strings"
)

// Schema URNs of the user resource (RFC 7643 section 8.7.1) and of
// Atlassian's extension that carries the linked account.
const (
	UserSchema              = "urn:ietf:params:scim:schemas:core:2.0:User"
	AtlassianExternalSchema = "urn:scim:schemas:extension:atlassian-external:1.0"
	workEmailType           = "work"
)

// Email is one entry of a user's multi-valued emails attribute.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// User is the part of an Atlassian SCIM user that the bridge reads or
// changes. Attributes not listed here are ignored when decoding.
type User struct {
	// ID is the SCIM record's id, assigned by Atlassian.
	ID string
	// ExternalID is set by the identity provider. With Entra's default
	// mapping it holds the Entra object ID. Comparisons are case-sensitive.
	ExternalID string
	// UserName is a unique key of the SCIM record. It need not be an email.
	UserName string
	Emails   []Email
	// Active is nil when the response omitted it.
	Active *bool
	// AccountID is atlassianAccountId from the atlassian-external extension:
	// the Atlassian account the record is linked to. It is empty when the
	// record is not linked.
	AccountID string
}

type atlassianExternal struct {
	AccountID string `json:"atlassianAccountId,omitempty"`
}

// userJSON is the wire form of User.
type userJSON struct {
	Schemas    []string           `json:"schemas,omitempty"`
	ID         string             `json:"id,omitempty"`
	ExternalID string             `json:"externalId,omitempty"`
	UserName   string             `json:"userName"`
	Emails     []Email            `json:"emails,omitempty"`
	Active     *bool              `json:"active,omitempty"`
	External   *atlassianExternal `json:"urn:scim:schemas:extension:atlassian-external:1.0,omitempty"`
}

// MarshalJSON encodes u as a SCIM user resource, with the atlassian-external
// extension when AccountID is set.
func (u User) MarshalJSON() ([]byte, error) {
	wire := userJSON{
		Schemas:    []string{UserSchema},
		ID:         u.ID,
		ExternalID: u.ExternalID,
		UserName:   u.UserName,
		Emails:     u.Emails,
		Active:     u.Active,
	}
	if u.AccountID != "" {
		wire.Schemas = append(wire.Schemas, AtlassianExternalSchema)
		wire.External = &atlassianExternal{AccountID: u.AccountID}
	}
	return json.Marshal(wire)
}

// UnmarshalJSON decodes a SCIM user resource.
func (u *User) UnmarshalJSON(data []byte) error {
	var wire userJSON
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*u = User{
		ID:         wire.ID,
		ExternalID: wire.ExternalID,
		UserName:   wire.UserName,
		Emails:     wire.Emails,
		Active:     wire.Active,
	}
	if wire.External != nil {
		u.AccountID = wire.External.AccountID
	}
	return nil
}

// WorkEmail returns the email whose type is "work", preferring the primary
// one when several are, and false when none is. Types compare
// case-insensitively, because RFC 7643 defines emails.type as not caseExact.
func (u User) WorkEmail() (Email, bool) {
	var found Email
	ok := false
	for _, e := range u.Emails {
		if !strings.EqualFold(e.Type, workEmailType) {
			continue
		}
		if e.Primary {
			return e, true
		}
		if !ok {
			found, ok = e, true
		}
	}
	return found, ok
}

// PrimaryEmail returns the address of the primary email, else of the work
// email, else of the first email, else "".
func (u User) PrimaryEmail() string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if e, ok := u.WorkEmail(); ok {
		return e.Value
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return ""
}
