package notification

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scanTakenCases are bodies that scanBody must decode itself, each to what
// decodeStd returns.
var scanTakenCases = []struct {
	name string
	body string
}{
	{"empty array", `{"value":[]}`},
	{"empty item", `{"value":[{}]}`},
	{"whitespace everywhere", " \t\r\n{ \"value\" : [ { \"changeType\" : \"updated\" } , { } ] }\n"},
	{"escaped apostrophe", `{"value":[{"resource":"users('\u0027x\u0027')"}]}`},
	{"escaped slash", `{"value":[{"resource":"Users\/` + testUserID + `"}]}`},
	{"every escape", `{"value":[{"changeType":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}]}`},
	{"lone surrogate escape", `{"value":[{"changeType":"\ud800"}]}`},
	{"non-ASCII value", `{"value":[{"tenantId":"Zürich ✓ 😀"}]}`},
	{"empty key", `{"value":[{"":"x","changeType":"updated"}]}`},
	{"key Err", `{"value":[{"Err":"x","err":{}}]}`},
	{"resourceData key at item level", `{"value":[{"sequenceNumber":"x","eventTime":null}]}`},
	{"item key in resourceData", `{"value":[{"resourceData":{"changeType":7,"tenantId":null}}]}`},
	{"nested unknown values", `{"@odata.context":{"a":[1,{"b":[[]]}],"c":"\n"},` +
		`"value":[{"x":[true,false,null,-0.5e+10,{"y":{}}],"changeType":"updated"}],` +
		`"validationTokens":["jwt"]}`},
	{"duplicate known key", `{"value":[{"changeType":"created","changeType":"updated"}]}`},
	{"duplicate resourceData merges", `{"value":[{"resourceData":{"id":"a","eventTime":"t1"},` +
		`"resourceData":{"eventTime":"t2","sequenceNumber":2}}]}`},
	{"18-digit sequence number", `{"value":[{"resourceData":{"sequenceNumber":636784480202455800}}]}`},
	{"sequence number beyond uint64", `{"value":[{"resourceData":` +
		`{"sequenceNumber":123456789012345678901234567890}}]}`},
	{"sequence number forms", `{"value":[{"resourceData":{"sequenceNumber":-0}},` +
		`{"resourceData":{"sequenceNumber":1.25E-3}},{"resourceData":{"sequenceNumber":7e+2}}]}`},
	{"full item", valueJSON(changeJSON(testUserID, testClientState))},
	{"lifecycle item", valueJSON(lifecycleJSON("missed", testClientState))},
}

// scanBailCases are bodies that scanBody must leave to decodeStd.
var scanBailCases = []struct {
	name string
	body string
}{
	// Invalid JSON.
	{"control character in string", "{\"value\":[{\"changeType\":\"up\x01dated\"}]}"},
	{"tab in string", "{\"value\":[{\"changeType\":\"up\tdated\"}]}"},
	{"control character in key", "{\"value\":[{\"x\ny\":1}]}"},
	{"unknown escape", `{"value":[{"changeType":"\x41"}]}`},
	{"short unicode escape", `{"value":[{"changeType":"\u12"}]}`},
	{"non-hex unicode escape", `{"value":[{"changeType":"\u12g4"}]}`},
	{"escape at end", `{"value":[{"changeType":"\`},
	{"unterminated string", `{"value":[{"changeType":"updated}]}`},
	{"leading zero", `{"value":[{"resourceData":{"sequenceNumber":01}}]}`},
	{"leading plus", `{"value":[{"resourceData":{"sequenceNumber":+1}}]}`},
	{"bare minus", `{"value":[{"resourceData":{"sequenceNumber":-}}]}`},
	{"fraction without digits", `{"value":[{"resourceData":{"sequenceNumber":1.}}]}`},
	{"fraction without integer", `{"value":[{"resourceData":{"sequenceNumber":.5}}]}`},
	{"exponent without digits", `{"value":[{"resourceData":{"sequenceNumber":1e+}}]}`},
	{"hex number", `{"value":[{"x":0x10}]}`},
	{"NaN", `{"value":[{"x":NaN}]}`},
	{"short literal", `{"value":[{"x":tru}]}`},
	{"capitalized literal", `{"value":[{"x":True}]}`},
	{"literal with suffix", `{"value":[{"x":nullx}]}`},
	{"trailing comma in object", `{"value":[{"changeType":"updated",}]}`},
	{"trailing comma in array", `{"value":[{},]}`},
	{"missing comma", `{"value":[{"id":"a" "changeType":"b"}]}`},
	{"missing colon", `{"value":[{"changeType" "updated"}]}`},
	{"unquoted key", `{"value":[{changeType:"updated"}]}`},
	{"single quotes", `{"value":[{'changeType':'updated'}]}`},
	{"mismatched brackets", `{"value":[{"x":[}]}]}`},
	{"unclosed array", `{"value":[{}`},
	{"unclosed envelope", `{"value":[]`},
	{"trailing object", `{"value":[]} {}`},
	{"trailing garbage", `{"value":[]}x`},
	{"trailing NUL", "{\"value\":[]}\x00"},
	{"byte order mark", "\xef\xbb\xbf{\"value\":[]}"},
	{"comment", `{"value":[] /* x */}`},
	{"nesting too deep", `{"value":[{"x":` + strings.Repeat("[", maxScanDepth) +
		strings.Repeat("]", maxScanDepth) + `}]}`},
	{"invalid UTF-8 in value", "{\"value\":[{\"changeType\":\"up\xffdated\"}]}"},
	{"invalid UTF-8 in unknown value", "{\"value\":[{\"x\":\"\xc3\"}]}"},
	{"surrogate as UTF-8", "{\"value\":[{\"changeType\":\"\xed\xa0\x80\"}]}"},

	// The envelope.
	{"envelope array", `[{"value":[]}]`},
	{"envelope string", `"value"`},
	{"envelope null", `null`},
	{"no value key", `{"values":[]}`},
	{"empty envelope", `{}`},
	{"value twice", `{"value":[],"value":[{}]}`},
	{"value null", `{"value":null}`},
	{"value object", `{"value":{"changeType":"updated"}}`},
	{"value string", `{"value":"[]"}`},
	{"value number", `{"value":1}`},

	// Items that are not objects.
	{"item string", `{"value":["Users/x"]}`},
	{"item number", `{"value":[42]}`},
	{"item null", `{"value":[null]}`},
	{"item array", `{"value":[[]]}`},
	{"item boolean", `{"value":[true]}`},
	{"one bad item among good", `{"value":[{},"x",{}]}`},

	// Keys that encoding/json matches case-insensitively, or might.
	{"Value", `{"Value":[]}`},
	{"VALUE beside value", `{"value":[],"VALUE":[{}]}`},
	{"ClientState", `{"value":[{"ClientState":"x"}]}`},
	{"RESOURCEDATA", `{"value":[{"RESOURCEDATA":{}}]}`},
	{"ID", `{"value":[{"ID":"x"}]}`},
	{"Id in resourceData", `{"value":[{"resourceData":{"Id":"x"}}]}`},
	{"@ODATA.TYPE", `{"value":[{"resourceData":{"@ODATA.TYPE":"x"}}]}`},
	{"SequenceNumber", `{"value":[{"resourceData":{"SequenceNumber":1}}]}`},
	{"long s", "{\"value\":[{\"\u017fubscriptionId\":\"x\"}]}"},
	{"Kelvin sign", "{\"value\":[{\"\u212aey\":\"x\"}]}"},
	{"non-ASCII unknown key", `{"value":[{"tenantIdé":"x"}]}`},
	{"escaped value key", `{"valu\u0065":[]}`},
	{"escaped item key", `{"value":[{"client\u0053tate":"x"}]}`},
	{"escaped resourceData key", `{"value":[{"resourceData":{"\u0069d":"x"}}]}`},
	{"escaped unknown key", `{"value":[{"futur\u0065":1,"changeType":"updated"}]}`},

	// Known fields of the wrong type.
	{"string field null", `{"value":[{"tenantId":null}]}`},
	{"string field number", `{"value":[{"changeType":7}]}`},
	{"string field boolean", `{"value":[{"clientState":true}]}`},
	{"string field object", `{"value":[{"resource":{}}]}`},
	{"string field array", `{"value":[{"lifecycleEvent":[]}]}`},
	{"resourceData null", `{"value":[{"resourceData":null}]}`},
	{"resourceData string", `{"value":[{"resourceData":"Users/x"}]}`},
	{"resourceData array", `{"value":[{"resourceData":[]}]}`},
	{"resourceData string field number", `{"value":[{"resourceData":{"id":1}}]}`},
	{"sequence number string", `{"value":[{"resourceData":{"sequenceNumber":"636784480202455800"}}]}`},
	{"sequence number null", `{"value":[{"resourceData":{"sequenceNumber":null}}]}`},
	{"sequence number object", `{"value":[{"resourceData":{"sequenceNumber":{}}}]}`},
	{"sequence number boolean", `{"value":[{"resourceData":{"sequenceNumber":true}}]}`},
}

// notWellFormedPayloads are the recorded payloads for which decodeStd
// returns an error or an item with Err set.
var notWellFormedPayloads = []string{
	"malformed-json.json",
	"missing-value.json",
	"mixed-valid-invalid.json",
}

func TestScanBodyTaken(t *testing.T) {
	for _, tt := range scanTakenCases {
		t.Run(tt.name, func(t *testing.T) {
			checkScanMatchesStd(t, bytes.TrimSpace([]byte(tt.body)))
		})
	}
}

func TestScanBodyBailsOut(t *testing.T) {
	for _, tt := range scanBailCases {
		t.Run(tt.name, func(t *testing.T) {
			items, ok := scanBody(bytes.TrimSpace([]byte(tt.body)))

			if ok {
				t.Errorf("scanBody(%q): got ok with %d items, want ok=false", tt.body, len(items))
			}
		})
	}
}

func TestScanBodyRecordedPayloads(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(payloadDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("recorded payloads in %s: got %d files, error %v; want at least one",
			payloadDir, len(paths), err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read payload: %v", err)
			}
			body = bytes.TrimSpace(body)

			if !slices.Contains(notWellFormedPayloads, name) {
				checkScanMatchesStd(t, body)
				return
			}
			if items, ok := scanBody(body); ok {
				t.Errorf("scanBody: got ok with %d items, want ok=false", len(items))
			}
			if err := stdDecodeProblem(body); err == nil {
				t.Errorf("decodeStd: got a clean decode, want an error or an item Err; "+
					"remove %s from notWellFormedPayloads", name)
			}
		})
	}
}

func FuzzScanMatchesDecode(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(payloadDir, "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("recorded payloads in %s: got %d files, error %v; want at least one",
			payloadDir, len(paths), err)
	}
	for _, path := range paths {
		body, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		f.Add(body)
	}
	for _, tt := range scanTakenCases {
		f.Add([]byte(tt.body))
	}
	for _, tt := range scanBailCases {
		f.Add([]byte(tt.body))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		// Decode trims the body and rejects an empty one before either path.
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			return
		}
		got, ok := scanBody(trimmed)
		if !ok {
			return
		}
		if err := stdDecodeProblem(trimmed); err != nil {
			t.Fatalf("scanBody(%q): got ok, want ok=false because decodeStd reports: %v", trimmed, err)
		}
		want, _ := decodeStd(trimmed)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("scanBody(%q) mismatch (-decodeStd +scanBody):\n%s", trimmed, diff)
		}
	})
}

// checkScanMatchesStd checks that scanBody decodes body and that its items
// equal what decodeStd returns, with no error and no item Err.
func checkScanMatchesStd(t *testing.T, body []byte) {
	t.Helper()
	if err := stdDecodeProblem(body); err != nil {
		t.Fatalf("decodeStd(%q): %v; want a clean decode", body, err)
	}
	want, _ := decodeStd(body)

	got, ok := scanBody(body)
	if !ok {
		t.Fatalf("scanBody(%q): got ok=false, want ok", body)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scanBody(%q) mismatch (-decodeStd +scanBody):\n%s", body, diff)
	}
}

// stdDecodeProblem returns decodeStd's error for a trimmed, non-empty body,
// or the first item Err, or nil.
func stdDecodeProblem(body []byte) error {
	items, err := decodeStd(body)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Err != nil {
			return it.Err
		}
	}
	return nil
}
