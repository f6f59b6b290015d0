package fakescim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// emailPatch holds the sub-attributes present in an email value object.
type emailPatch struct {
	Value   *string `json:"value"`
	Type    *string `json:"type"`
	Primary *bool   `json:"primary"`
}

// applyEmailFilter applies an operation to the emails that path's value
// filter selects, such as emails[type eq "work"].value. A filter that
// selects nothing is 400 noTarget. RFC 7644 section 3.5.2.3 requires that
// for replace, and the fake does the same for add and remove.
func applyEmailFilter(u *scim.User, kind string, path filter.Path, value json.RawMessage) *patchError {
	var selected []int
	for i, e := range u.Emails {
		ok, err := matchEmail(path.ValueExpression, e)
		if err != nil {
			return badRequest("invalidFilter", err.Error())
		}
		if ok {
			selected = append(selected, i)
		}
	}
	if len(selected) == 0 {
		return badRequest("noTarget", "no email matches "+path.String())
	}

	if kind == "remove" && path.SubAttribute == nil {
		var remaining []scim.Email
		for i, e := range u.Emails {
			if !slices.Contains(selected, i) {
				remaining = append(remaining, e)
			}
		}
		u.Emails = remaining
		return nil
	}

	patch, perr := decodeEmailPatch(kind, path.SubAttribute, value)
	if perr != nil {
		return perr
	}
	if patch.Primary != nil && *patch.Primary {
		clearPrimary(u.Emails)
	}
	for _, i := range selected {
		applyEmailPatch(&u.Emails[i], patch)
	}
	return nil
}

// decodeEmailPatch turns the value of an operation on selected emails into
// the sub-attributes to set. With a sub-attribute path the value is that
// sub-attribute, and remove clears it. Without one, the value is an email
// object.
func decodeEmailPatch(kind string, subAttribute *string, value json.RawMessage) (emailPatch, *patchError) {
	var patch emailPatch
	if subAttribute == nil {
		if err := json.Unmarshal(value, &patch); err != nil {
			return emailPatch{}, badRequest("invalidValue", "value must be an email object")
		}
		return patch, nil
	}

	name := strings.ToLower(*subAttribute)
	var target any
	switch name {
	case "value":
		patch.Value = new(string)
		target = patch.Value
	case "type":
		patch.Type = new(string)
		target = patch.Type
	case "primary":
		patch.Primary = new(bool)
		target = patch.Primary
	default:
		return emailPatch{}, badRequest("invalidPath", "unsupported email sub-attribute "+quote(*subAttribute))
	}
	if kind == "remove" {
		return patch, nil
	}
	if err := json.Unmarshal(value, target); err != nil {
		return emailPatch{}, badRequest("invalidValue", "invalid value for email "+name)
	}
	return patch, nil
}

func applyEmailPatch(e *scim.Email, patch emailPatch) {
	if patch.Value != nil {
		e.Value = *patch.Value
	}
	if patch.Type != nil {
		e.Type = *patch.Type
	}
	if patch.Primary != nil {
		e.Primary = *patch.Primary
	}
}

// matchEmail evaluates a value filter on one email. It supports eq on
// value, type and primary, joined by and, or and not. value and type
// compare case-insensitively, as RFC 7643 defines them.
func matchEmail(expr filter.Expression, e scim.Email) (bool, error) {
	switch x := expr.(type) {
	case *filter.LogicalExpression:
		left, err := matchEmail(x.Left, e)
		if err != nil {
			return false, err
		}
		right, err := matchEmail(x.Right, e)
		if err != nil {
			return false, err
		}
		if x.Operator == filter.AND {
			return left && right, nil
		}
		return left || right, nil
	case *filter.NotExpression:
		ok, err := matchEmail(x.Expression, e)
		return !ok, err
	case *filter.AttributeExpression:
		return matchEmailAttribute(x, e)
	}
	return false, fmt.Errorf("unsupported email filter %v", expr)
}

func matchEmailAttribute(x *filter.AttributeExpression, e scim.Email) (bool, error) {
	if x.Operator != filter.EQ || x.AttributePath.SubAttribute != nil || x.AttributePath.URIPrefix != nil {
		return false, fmt.Errorf("unsupported email filter %v: only eq on value, type or primary", x)
	}
	switch strings.ToLower(x.AttributePath.AttributeName) {
	case "primary":
		want, ok := x.CompareValue.(bool)
		if !ok {
			return false, fmt.Errorf("primary compares with true or false, got %v", x.CompareValue)
		}
		return e.Primary == want, nil
	case "value", "type":
		raw, ok := x.CompareValue.(string)
		if !ok {
			return false, fmt.Errorf("%s compares with a string, got %v", x.AttributePath.AttributeName, x.CompareValue)
		}
		want, err := unescapeString(raw)
		if err != nil {
			return false, err
		}
		got := e.Type
		if strings.EqualFold(x.AttributePath.AttributeName, "value") {
			got = e.Value
		}
		return strings.EqualFold(got, want), nil
	}
	return false, fmt.Errorf("unsupported email filter attribute %q", x.AttributePath.AttributeName)
}
