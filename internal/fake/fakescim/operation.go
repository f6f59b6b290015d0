package fakescim

import (
	"encoding/json"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// coreUserSchema may prefix an attribute path (RFC 7644 section 3.10).
const coreUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

// applyOperation applies one add, replace or remove to u. It supports the
// paths userName, externalId, active, emails and emails[<filter>] with an
// optional .value, .type or .primary, and a path-less add or replace whose
// value is an object of those attributes. Any other path is 400
// invalidPath, because the fake does not model it.
func applyOperation(u *scim.User, op patchOperation) *patchError {
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "replace" && kind != "remove" {
		return badRequest("invalidSyntax", "op must be add, replace or remove, got "+quote(op.Op))
	}
	if op.Path == "" {
		if kind == "remove" {
			return badRequest("noTarget", "remove needs a path")
		}
		return applyAttributes(u, kind, op.Value)
	}

	path, err := filter.ParsePath([]byte(op.Path))
	if err != nil {
		return badRequest("invalidPath", "invalid path "+quote(op.Path)+": "+err.Error())
	}
	attrPath := path.AttributePath
	if uri := attrPath.URI(); uri != "" && !strings.EqualFold(uri, coreUserSchema) {
		return badRequest("invalidPath", "unsupported schema in path "+quote(op.Path))
	}
	if attrPath.SubAttribute != nil {
		return badRequest("invalidPath", "unsupported sub-attribute in path "+quote(op.Path))
	}

	name := attrPath.AttributeName
	if path.ValueExpression != nil {
		if !strings.EqualFold(name, "emails") {
			return badRequest("invalidPath", "a value filter is supported only on emails, got "+quote(op.Path))
		}
		return applyEmailFilter(u, kind, path, op.Value)
	}
	return applyAttribute(u, kind, name, op.Value)
}

// applyAttributes applies a path-less add or replace: each member of the
// value object is applied as if it were the path.
func applyAttributes(u *scim.User, kind string, value json.RawMessage) *patchError {
	var attributes map[string]json.RawMessage
	if err := json.Unmarshal(value, &attributes); err != nil || attributes == nil {
		return badRequest("invalidValue", "a path-less "+kind+" needs an object value")
	}
	for name, v := range attributes {
		if perr := applyAttribute(u, kind, name, v); perr != nil {
			return perr
		}
	}
	return nil
}

// applyAttribute applies an operation to one top-level attribute. Names
// compare case-insensitively (RFC 7644 section 3.10).
func applyAttribute(u *scim.User, kind, name string, value json.RawMessage) *patchError {
	switch strings.ToLower(name) {
	case "username":
		return setString(&u.UserName, kind, "userName", value)
	case "externalid":
		return setString(&u.ExternalID, kind, "externalId", value)
	case "active":
		return setActive(u, kind, value)
	case "emails":
		return setEmails(u, kind, value)
	case "id":
		return badRequest("mutability", "id is read-only")
	}
	return badRequest("invalidPath", "attribute "+quote(name)+" is not supported by the fake")
}

// setString sets or, for remove, clears a string attribute. validateUser
// rejects a cleared userName afterwards.
func setString(field *string, kind, name string, value json.RawMessage) *patchError {
	if kind == "remove" {
		*field = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return badRequest("invalidValue", name+" must be a string")
	}
	*field = s
	return nil
}

func setActive(u *scim.User, kind string, value json.RawMessage) *patchError {
	if kind == "remove" {
		u.Active = nil
		return nil
	}
	var active bool
	if err := json.Unmarshal(value, &active); err != nil {
		return badRequest("invalidValue", "active must be a boolean")
	}
	u.Active = &active
	return nil
}

// setEmails replaces all emails, appends to them (add) or removes them.
// An added primary email takes the primary flag from the others (RFC 7644
// section 3.5.2).
func setEmails(u *scim.User, kind string, value json.RawMessage) *patchError {
	if kind == "remove" {
		u.Emails = nil
		return nil
	}
	var emails []scim.Email
	if err := json.Unmarshal(value, &emails); err != nil {
		return badRequest("invalidValue", "emails must be an array of email objects")
	}
	if kind == "replace" {
		u.Emails = emails
		return nil
	}
	for _, e := range emails {
		if e.Primary {
			clearPrimary(u.Emails)
		}
	}
	u.Emails = append(u.Emails, emails...)
	return nil
}

func clearPrimary(emails []scim.Email) {
	for i := range emails {
		emails[i].Primary = false
	}
}

func quote(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}
