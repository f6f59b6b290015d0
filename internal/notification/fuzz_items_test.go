package notification_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/entrabridge/entrabridge/internal/notification"
)

// recordedPayloads is the folder of recorded Graph request bodies.
const recordedPayloads = "../../testdata/notifications"

// lowerGUID matches an Entra object ID as UserID returns it.
var lowerGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// anyCaseGUID matches an object ID as Graph may send it.
var anyCaseGUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// jsonInteger matches the integer literals JSON allows.
var jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// FuzzDecodeUserIDs checks, for any body, that every user ID Decode lets
// through is a lower-case GUID and that every sequenceNumber it keeps is
// JSON number text.
func FuzzDecodeUserIDs(f *testing.F) {
	addRecordedPayloads(f)
	f.Add([]byte(`{"value":[{"resource":"users('DE9E559D-648B-48CB-8882-EEAE2191A3AE')"}]}`))
	f.Add([]byte(`{"value":[{"resource":"/Users/de9e559d-648b-48cb-8882-eeae2191a3ae/manager"}]}`))
	f.Add([]byte(`{"value":[{"resourceData":{"@odata.id":"Users/not-a-guid"}}]}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := notification.Decode(body)
		if err != nil {
			return
		}
		for i, it := range items {
			if it.Err != nil {
				continue
			}
			if id, err := it.UserID(); err == nil && !lowerGUID.MatchString(id) {
				t.Errorf("item %d: got user ID %q, want a lower-case GUID", i, id)
			}
			if seq := it.ResourceData.SequenceNumber.String(); seq != "" && !json.Valid([]byte(seq)) {
				t.Errorf("item %d: got sequenceNumber %q, want JSON number text", i, seq)
			}
		}
	})
}

// addRecordedPayloads adds every recorded request body as a seed.
func addRecordedPayloads(f *testing.F) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(recordedPayloads, "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("recorded payloads in %s: got %d files, error %v; want at least one", recordedPayloads, len(paths), err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		f.Add(data)
	}
}

// userIDPlacements are the fields in which FuzzDecodeItem puts the user ID,
// each as a function from the ID to the item's JSON members.
var userIDPlacements = []func(id string) string{
	func(id string) string { return `"resourceData":{"id":` + quoteJSON(id) + `}` },
	func(id string) string { return `"resource":` + quoteJSON("Users/"+id) },
	func(id string) string { return `"resource":` + quoteJSON("users('"+id+"')") },
	func(id string) string { return `"resource":` + quoteJSON("/users/"+id) },
	func(id string) string { return `"resourceData":{"@odata.id":` + quoteJSON("Users/"+id) + `}` },
}

// FuzzDecodeItem builds a one-item body around a user ID and a
// sequenceNumber literal, and checks that Decode returns the ID in lower
// case exactly when it is a GUID, and the sequenceNumber digit for digit.
func FuzzDecodeItem(f *testing.F) {
	f.Add("de9e559d-648b-48cb-8882-eeae2191a3ae", uint8(0), "636784480202455800")
	f.Add("DE9E559D-648B-48CB-8882-EEAE2191A3AE", uint8(1), "9223372036854775807")
	f.Add("de9e559d-648b-48cb-8882-eeae2191a3ae", uint8(2), "18446744073709551616")
	f.Add("de9e559d-648b-48cb-8882-eeae2191a3ae')", uint8(2), "1")
	f.Add("de9e559d-648b-48cb-8882-eeae2191a3ae/x", uint8(3), "-1")
	f.Add("", uint8(4), "0")
	f.Add("not-a-guid", uint8(0), "636784480202455800")

	f.Fuzz(func(t *testing.T, id string, placement uint8, seq string) {
		if !jsonInteger.MatchString(seq) {
			t.Skip("sequenceNumber is not a JSON integer literal")
		}
		place := userIDPlacements[int(placement)%len(userIDPlacements)]
		body := `{"value":[{"changeType":"updated",` + place(id) + `}]}`
		body = strings.Replace(body, `"resourceData":{`, `"resourceData":{"sequenceNumber":`+seq+`,`, 1)
		if !strings.Contains(body, `"sequenceNumber"`) {
			body = strings.Replace(body, `"changeType":"updated",`,
				`"changeType":"updated","resourceData":{"sequenceNumber":`+seq+`},`, 1)
		}

		items, err := notification.Decode([]byte(body))
		if err != nil {
			t.Fatalf("Decode(%s): got error %v, want nil", body, err)
		}
		if len(items) != 1 {
			t.Fatalf("Decode(%s): got %d items, want 1", body, len(items))
		}
		it := items[0]
		if it.Err != nil {
			t.Fatalf("Decode(%s): got item error %v, want nil", body, it.Err)
		}

		if got := it.ResourceData.SequenceNumber.String(); got != seq {
			t.Errorf("sequenceNumber: got %s, want %s", got, seq)
		}
		got, err := it.UserID()
		switch {
		case anyCaseGUID.MatchString(id) && err != nil:
			t.Errorf("UserID of %s: got error %v, want %s", body, err, strings.ToLower(id))
		case anyCaseGUID.MatchString(id) && got != strings.ToLower(id):
			t.Errorf("UserID of %s: got %q, want %q", body, got, strings.ToLower(id))
		case !anyCaseGUID.MatchString(id) && err == nil:
			t.Errorf("UserID of %s: got %q, want an error because %q is not a GUID", body, got, id)
		}
	})
}

// quoteJSON returns s as a JSON string literal.
func quoteJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
