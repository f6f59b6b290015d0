// Package plan decides what one user's sync must change in Atlassian: it
// maps the Entra user to the SCIM attributes the bridge owns, compares them
// with the SCIM record, applies the verified-domain guard and builds the
// PATCH operations. It does no I/O, so every rule is table-tested.
package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// UserName sources for Policy.UserNameSource.
const (
	FromUserPrincipalName = "userPrincipalName"
	FromMail              = "mail"
	Unchanged             = "unchanged"
)

// EntraUser is the part of an Entra user the bridge syncs.
type EntraUser struct {
	ID                string
	UserPrincipalName string
	Mail              string
}

// Email returns the address Atlassian should hold: mail, or
// userPrincipalName when the user has no mailbox and mail is empty.
func (u EntraUser) Email() string {
	if u.Mail != "" {
		return u.Mail
	}
	return u.UserPrincipalName
}

// Policy is the operator's configuration of what a sync may change.
type Policy struct {
	// UserNameSource is FromUserPrincipalName (the default when empty),
	// FromMail or Unchanged.
	UserNameSource string
	// VerifiedDomains are the lower-case email domains the Atlassian
	// organization has verified. Empty allows every domain.
	VerifiedDomains []string
}

// ErrUnverifiedDomain means the new email is on a domain outside
// Policy.VerifiedDomains. Atlassian would accept the change but unlink the
// SCIM record from the person's account.
var ErrUnverifiedDomain = errors.New("plan: email domain is not verified")

// Change is the decision for one user.
type Change struct {
	// UserName and Email are the values Atlassian should hold.
	UserName string
	Email    string
	// Operations are the PATCH operations that bring the SCIM record to
	// UserName and Email; empty when it already holds them.
	Operations []scim.Operation
}

// Plan compares the Entra user with the SCIM record and returns the change.
// It returns an error wrapping ErrUnverifiedDomain, and no operations, when
// the email would move to another address on an unverified domain: the
// userName is held back too, so that a half-applied rename never reaches
// Atlassian.
func (p Policy) Plan(u EntraUser, current scim.User) (Change, error) {
	c := Change{UserName: p.userName(u, current), Email: u.Email()}

	work, hasWork := current.WorkEmail()
	emailChanged := !hasWork || work.Value != c.Email
	// The guard is about the address the account moves to. Setting the
	// type of an existing address, or changing only its case, moves
	// nothing, because email addresses compare without case.
	currentEmail := work.Value
	if !hasWork {
		currentEmail = current.PrimaryEmail()
	}
	addressChanged := !strings.EqualFold(currentEmail, c.Email)
	if addressChanged && !p.verified(c.Email) {
		return Change{}, fmt.Errorf("%w: %s is not in ATLASSIAN_VERIFIED_DOMAINS; "+
			"sending it would unlink the Atlassian account", ErrUnverifiedDomain, domainOf(c.Email))
	}

	if c.UserName != current.UserName {
		c.Operations = append(c.Operations, scim.ReplaceUserName(c.UserName))
	}
	if emailChanged {
		c.Operations = append(c.Operations, EmailOperation(current, c.Email, false))
	}
	return c, nil
}

// EmailOperation returns the operation that sets the work email. It
// replaces emails[type eq "work"].value when the record has a work email,
// and otherwise replaces the whole emails array with one primary work
// address. alternate selects the other form, for a retry after Atlassian
// rejected the first one with noTarget or invalidPath.
func EmailOperation(current scim.User, email string, alternate bool) scim.Operation {
	_, hasWork := current.WorkEmail()
	if hasWork != alternate {
		return scim.ReplaceWorkEmailValue(email)
	}
	return scim.ReplaceEmails(email)
}

func (p Policy) userName(u EntraUser, current scim.User) string {
	switch p.UserNameSource {
	case FromMail:
		return u.Email()
	case Unchanged:
		return current.UserName
	}
	return u.UserPrincipalName
}

func (p Policy) verified(email string) bool {
	if len(p.VerifiedDomains) == 0 {
		return true
	}
	domain := domainOf(email)
	for _, d := range p.VerifiedDomains {
		if domain == d {
			return true
		}
	}
	return false
}

// domainOf returns the lower-case part after the last '@'.
func domainOf(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}
