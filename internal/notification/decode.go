package notification

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
)

// Item is one entry of a Graph notification body's value array, decoded
// leniently: unknown fields are ignored, and changeType and lifecycleEvent
// are kept as sent, so that one odd item cannot fail its batch.
type Item struct {
	// ID is the notification's own id, when Graph sends one.
	ID                             string       `json:"id"`
	SubscriptionID                 string       `json:"subscriptionId"`
	SubscriptionExpirationDateTime string       `json:"subscriptionExpirationDateTime"`
	ChangeType                     string       `json:"changeType"`
	Resource                       string       `json:"resource"`
	ResourceData                   ResourceData `json:"resourceData"`
	// ClientState is the subscription's shared secret. Item's LogValue
	// leaves it out.
	ClientState string `json:"clientState"`
	// TenantID may be empty: Graph has been seen to send "".
	TenantID string `json:"tenantId"`
	// LifecycleEvent is set only on lifecycle notifications, such as
	// reauthorizationRequired, subscriptionRemoved or missed.
	LifecycleEvent string `json:"lifecycleEvent"`

	// Err is the decoding error, or nil. When it is set, the other fields
	// may be partly filled and must not be trusted.
	Err error `json:"-"`
}

// ResourceData is the resourceData object of a users change notification.
// Basic notifications carry only identifiers, never the changed properties.
type ResourceData struct {
	ODataType      string `json:"@odata.type"`
	ODataID        string `json:"@odata.id"`
	ID             string `json:"id"`
	OrganizationID string `json:"organizationId"`
	EventTime      string `json:"eventTime"`
	// SequenceNumber keeps the decimal text, because 18-digit values such
	// as 636784480202455800 do not survive a float64.
	SequenceNumber json.Number `json:"sequenceNumber"`
}

// LogValue logs the item's identifiers and never its clientState.
func (it Item) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("subscription_id", it.SubscriptionID),
		slog.String("change_type", it.ChangeType),
		slog.String("lifecycle_event", it.LifecycleEvent),
		slog.String("resource", it.Resource),
	)
}

// jsonWhitespace lists the whitespace JSON allows around values (RFC 8259,
// section 2).
const jsonWhitespace = " \t\n\r"

// Decode parses a notification body of the form {"value":[...]}. It returns
// an error only when the body as a whole is unusable: empty, not JSON, not
// an object, or without a value array. An entry that cannot be decoded
// becomes an Item with Err set, so the rest of the batch survives.
func Decode(body []byte) ([]Item, error) {
	// Only JSON's own whitespace: bytes.TrimSpace would also drop form
	// feeds and Unicode spaces, which make a body invalid JSON.
	trimmed := bytes.Trim(body, jsonWhitespace)
	if len(trimmed) == 0 {
		return nil, errors.New(`body is empty, want a JSON object with a "value" array`)
	}

	if items, ok := scanBody(trimmed); ok {
		return items, nil
	}
	return decodeStd(trimmed)
}

// decodeStd decodes a trimmed, non-empty body with encoding/json. It
// decides every body that scanBody does not accept, and its errors are the
// ones Decode returns.
func decodeStd(trimmed []byte) ([]Item, error) {
	// A well-formed batch takes one json.Unmarshal of the envelope. Anything
	// else takes the slower path below, which names what is wrong.
	if trimmed[0] == '{' {
		var batch struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(trimmed, &batch); err == nil && batch.Value != nil {
			return decodeItems(batch.Value), nil
		}
	}

	var whole json.RawMessage
	if err := json.Unmarshal(trimmed, &whole); err != nil {
		return nil, fmt.Errorf("body is not valid JSON: %w", err)
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf(`body is a JSON %s, want an object with a "value" array`, jsonKind(trimmed))
	}

	// encoding/json matches the key case-insensitively, so "Value" counts.
	var envelope struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(trimmed, &envelope); err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	if len(envelope.Value) == 0 {
		return nil, errors.New(`body has no "value" array`)
	}
	if envelope.Value[0] != '[' {
		return nil, fmt.Errorf(`"value" is a JSON %s, want an array`, jsonKind(envelope.Value))
	}

	var raws []json.RawMessage
	if err := json.Unmarshal(envelope.Value, &raws); err != nil {
		return nil, fmt.Errorf(`decode "value" array: %w`, err)
	}
	return decodeItems(raws), nil
}

func decodeItems(raws []json.RawMessage) []Item {
	items := make([]Item, len(raws))
	for i, raw := range raws {
		items[i] = decodeItem(raw)
	}
	return items
}

func decodeItem(raw json.RawMessage) Item {
	if len(raw) == 0 || raw[0] != '{' {
		return Item{Err: fmt.Errorf("item is a JSON %s, want an object", jsonKind(raw))}
	}
	var it Item
	if err := json.Unmarshal(raw, &it); err != nil {
		it.Err = describeItemError(err)
	}
	return it
}

// describeItemError rewords a type mismatch with the JSON field path instead
// of the Go struct names that encoding/json reports.
func describeItemError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return fmt.Errorf("item field %q is a JSON %s, want %s", typeErr.Field, typeErr.Value, expectedKind(typeErr.Type))
	}
	return fmt.Errorf("item is not a valid notification: %w", err)
}

// expectedKind names, in JSON terms, what Item expects for a field of type t.
func expectedKind(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[json.Number]():
		return "a number"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Struct:
		return "an object"
	}
	return t.String()
}

// jsonKind names the JSON type of a value that json.Unmarshal accepted.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "empty value"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
