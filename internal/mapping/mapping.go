// Package mapping resolves an Entra object ID to the Atlassian SCIM user it
// belongs to. It matches on the object ID first, because Entra's Atlassian
// provisioning writes it to SCIM externalId, and on the last synced
// userPrincipalName only as a fallback, so that a rename can never attach
// one person's changes to another person's account.
package mapping

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// Store keeps resolved mappings. redisstore.Store implements it.
type Store interface {
	Mapping(ctx context.Context, objectID string) (string, bool, error)
	SetMapping(ctx context.Context, objectID, scimID string) error
	DeleteMapping(ctx context.Context, objectID string) error
}

// Directory reads SCIM users. scim.Client implements it.
type Directory interface {
	GetUser(ctx context.Context, id string) (scim.User, error)
	FindUsers(ctx context.Context, attr, value string) ([]scim.User, error)
}

// ErrUnmapped means no SCIM user matches the Entra user.
var ErrUnmapped = errors.New("mapping: no Atlassian SCIM user matches")

// ErrAmbiguous means more than one SCIM user matches the Entra user.
var ErrAmbiguous = errors.New("mapping: several Atlassian SCIM users match")

// Resolver finds the SCIM user for an Entra object ID.
type Resolver struct {
	Store     Store
	Directory Directory
}

// Resolve returns the current SCIM record of objectID's user, trying in
// order: the stored mapping, SCIM externalId eq objectID, and SCIM userName
// eq lastUserName (the userPrincipalName last synced; skipped when empty).
// A match found by a filter is stored for next time. A stored mapping whose
// SCIM user no longer exists is deleted and the filters are tried.
//
// Every match, the stored mapping included, is accepted only when the
// record's externalId is empty or equals objectID: a record carrying
// another object ID belongs to someone else.
func (r *Resolver) Resolve(ctx context.Context, objectID, lastUserName string) (scim.User, error) {
	var tried []string

	scimID, ok, err := r.Store.Mapping(ctx, objectID)
	if err != nil {
		return scim.User{}, fmt.Errorf("read mapping of %s: %w", objectID, err)
	}
	if ok {
		u, err := r.Directory.GetUser(ctx, scimID)
		switch {
		case err == nil && (u.ExternalID == "" || strings.EqualFold(u.ExternalID, objectID)):
			return u, nil
		case err == nil:
			// The record now carries another person's object ID: the
			// stored mapping is stale, and following it would rename
			// someone else.
			tried = append(tried, fmt.Sprintf("stored mapping to SCIM user %s (externalId is %s, removed)",
				scimID, u.ExternalID))
		case failure.ClassOf(err) == failure.NotFound:
			tried = append(tried, fmt.Sprintf("stored mapping to SCIM user %s (not found, removed)", scimID))
		default:
			return scim.User{}, fmt.Errorf("read scim user %s: %w", scimID, err)
		}
		if err := r.Store.DeleteMapping(ctx, objectID); err != nil {
			return scim.User{}, fmt.Errorf("delete stale mapping of %s: %w", objectID, err)
		}
	}

	u, found, err := r.find(ctx, objectID, "externalId", objectID)
	if err != nil || found {
		return u, err
	}
	tried = append(tried, fmt.Sprintf("SCIM externalId eq %q", objectID))

	if lastUserName != "" {
		u, found, err := r.find(ctx, objectID, "userName", lastUserName)
		if err != nil || found {
			return u, err
		}
		tried = append(tried, fmt.Sprintf("SCIM userName eq %q", lastUserName))
	}
	return scim.User{}, fmt.Errorf("%w %s; tried %s", ErrUnmapped, objectID, strings.Join(tried, ", "))
}

// Invalidate deletes the stored mapping of objectID, after SCIM returned
// 404 for it.
func (r *Resolver) Invalidate(ctx context.Context, objectID string) error {
	return r.Store.DeleteMapping(ctx, objectID)
}

// find runs one filter and stores a unique acceptable match.
func (r *Resolver) find(ctx context.Context, objectID, attr, value string) (scim.User, bool, error) {
	users, err := r.Directory.FindUsers(ctx, attr, value)
	if err != nil {
		return scim.User{}, false, fmt.Errorf("find scim user by %s: %w", attr, err)
	}
	var matches []scim.User
	for _, u := range users {
		if u.ExternalID == objectID || (attr == "userName" && u.ExternalID == "") {
			matches = append(matches, u)
		}
	}
	switch len(matches) {
	case 0:
		return scim.User{}, false, nil
	case 1:
	default:
		ids := make([]string, len(matches))
		for i, m := range matches {
			ids[i] = m.ID
		}
		return scim.User{}, false, fmt.Errorf("%w %s by %s: SCIM users %s",
			ErrAmbiguous, objectID, attr, strings.Join(ids, ", "))
	}
	if err := r.Store.SetMapping(ctx, objectID, matches[0].ID); err != nil {
		return scim.User{}, false, fmt.Errorf("store mapping of %s: %w", objectID, err)
	}
	return matches[0], true, nil
}
