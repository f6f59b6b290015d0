// Decoding notification bodies was the receiver's largest CPU cost. With
// encoding/json alone, each item is read about three times: when the
// envelope is split into json.RawMessage values, when json.Unmarshal
// validates the item, and when it decodes it. scanBody reads a well-formed
// body once, byte by byte, and fills the Items as it goes.
// BenchmarkDecodeBatch on batch-20-users.json measured medians of 221 µs
// and 414 allocations per batch with encoding/json alone, and 24 µs and 113
// allocations with scanBody: five interleaved runs each, go1.26, on a
// shared 2-core AMD EPYC VM.
//
// encoding/json stays the authority. scanBody accepts a body only when it
// is sure that decodeStd would return the same Items with no Err set. It
// gives up on anything else, so that decodeStd decides that body and words
// its errors. FuzzScanMatchesDecode checks this against decodeStd.

package notification

import (
	"encoding/json"
	"reflect"
	"strings"
	"unicode/utf8"
)

// maxScanDepth is the deepest nesting of objects and arrays that scanBody
// reads. A notification body needs four levels: the envelope, the value
// array, an item and its resourceData. encoding/json decides deeper bodies.
const maxScanDepth = 64

// JSON names of the fields that encoding/json would set. A key that is not
// one of these names is skipped, unless encoding/json would still match it
// to one of them.
var (
	envelopeFields     = []string{"value"}
	itemFields         = jsonFieldNames(reflect.TypeFor[Item]())
	resourceDataFields = jsonFieldNames(reflect.TypeFor[ResourceData]())
)

// jsonFieldNames returns the names under which encoding/json decodes the
// fields of struct type t. Because the scanner gives up on an exact match
// that it has no case for, a field added to Item or ResourceData makes it
// give up rather than silently skip that field.
func jsonFieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		field := t.Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = field.Name
		}
		names = append(names, name)
	}
	return names
}

// scanBody decodes a trimmed notification body in one pass. It returns
// ok=false for every body whose result it cannot guarantee to equal what
// decodeStd returns with no item Err set.
func scanBody(body []byte) (items []Item, ok bool) {
	s := scanner{data: body}
	s.skipSpace()
	items, ok = s.envelope()
	if !ok {
		return nil, false
	}

	s.skipSpace()
	if s.pos != len(s.data) {
		return nil, false
	}
	return items, true
}

// scanner reads one JSON text from data. Each method that reads a value
// starts at the value's first byte and returns false when the input is
// invalid JSON or a case that scanBody leaves to encoding/json.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

// envelope decodes the top-level object, which must contain exactly one
// "value" key.
func (s *scanner) envelope() ([]Item, bool) {
	var items []Item
	found := false
	ok := s.object(func(key []byte) bool {
		if string(key) != "value" {
			return s.skipMember(key, envelopeFields)
		}
		if found {
			return false
		}
		found = true
		var ok bool
		items, ok = s.items()
		return ok
	})
	return items, ok && found
}

// items decodes the value array, in which every element must be an object.
func (s *scanner) items() ([]Item, bool) {
	// encoding/json returns an empty, non-nil slice for [].
	items := []Item{}
	ok := s.array(func() bool {
		items = append(items, Item{})
		it := &items[len(items)-1]
		// The first item has no predecessor, so its strings are compared
		// with its own fields, which are still empty.
		prev := it
		if n := len(items); n > 1 {
			prev = &items[n-2]
		}
		return s.item(it, prev)
	})
	return items, ok
}

// item decodes one notification object into it. A repeated key overwrites
// the earlier value, as in encoding/json. prev is the item before it, whose
// strings stringValue reuses when they are equal.
func (s *scanner) item(it, prev *Item) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.stringField(&it.ID, prev.ID)
		case "subscriptionId":
			return s.stringField(&it.SubscriptionID, prev.SubscriptionID)
		case "subscriptionExpirationDateTime":
			return s.stringField(&it.SubscriptionExpirationDateTime, prev.SubscriptionExpirationDateTime)
		case "changeType":
			return s.stringField(&it.ChangeType, prev.ChangeType)
		case "resource":
			return s.stringField(&it.Resource, prev.Resource)
		case "resourceData":
			return s.resourceData(&it.ResourceData, &prev.ResourceData)
		case "clientState":
			return s.stringField(&it.ClientState, prev.ClientState)
		case "tenantId":
			return s.stringField(&it.TenantID, prev.TenantID)
		case "lifecycleEvent":
			return s.stringField(&it.LifecycleEvent, prev.LifecycleEvent)
		}
		return s.skipMember(key, itemFields)
	})
}

// resourceData decodes a resourceData object into rd. Like encoding/json,
// it does not reset rd first, so a second resourceData key in the same item
// sets only the fields it contains.
func (s *scanner) resourceData(rd, prev *ResourceData) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "@odata.type":
			return s.stringField(&rd.ODataType, prev.ODataType)
		case "@odata.id":
			return s.stringField(&rd.ODataID, prev.ODataID)
		case "id":
			return s.stringField(&rd.ID, prev.ID)
		case "organizationId":
			return s.stringField(&rd.OrganizationID, prev.OrganizationID)
		case "eventTime":
			return s.stringField(&rd.EventTime, prev.EventTime)
		case "sequenceNumber":
			return s.sequenceNumber(&rd.SequenceNumber)
		}
		return s.skipMember(key, resourceDataFields)
	})
}

// sequenceNumber stores a number token's text. encoding/json also accepts a
// string that contains a number, and ignores null, but scanBody leaves both
// to it.
func (s *scanner) sequenceNumber(dst *json.Number) bool {
	number, ok := s.number()
	if ok {
		*dst = json.Number(number)
	}
	return ok
}

// stringField stores a string value in dst. Any other JSON type, null
// included, makes the scanner give up, because encoding/json ignores null
// and sets Item.Err for the others.
func (s *scanner) stringField(dst *string, prev string) bool {
	value, ok := s.stringValue(prev)
	if ok {
		*dst = value
	}
	return ok
}

// skipMember reads and discards the value of a key that names no field. It
// gives up when encoding/json might still match the key to one of names,
// which is true of a key that equals a name apart from case. It also gives
// up on a key with a backslash or a byte of 0x80 or above, because
// encoding/json unescapes keys and folds them with Unicode rules. For
// example, the Kelvin sign matches "k" and the long s matches "s".
func (s *scanner) skipMember(key []byte, names []string) bool {
	for _, c := range key {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	for _, name := range names {
		if equalFoldASCII(key, name) {
			return false
		}
	}
	return s.skipValue()
}

// equalFoldASCII reports whether the ASCII strings key and name are equal
// apart from the case of letters.
func equalFoldASCII(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		if lowerASCII(c) != lowerASCII(name[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// skipValue reads and discards any JSON value.
func (s *scanner) skipValue() bool {
	if s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '{':
		return s.object(func([]byte) bool { return s.skipValue() })
	case '[':
		return s.array(s.skipValue)
	case '"':
		_, _, ok := s.stringToken()
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, ok := s.number()
	return ok
}

// object reads an object and calls member for each key with the scanner at
// the member's value, which member must read. The key is passed as it
// appears between the quotes, with any escapes still in it.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.enter('{') {
		return false
	}
	s.skipSpace()
	if s.consume('}') {
		return s.leave()
	}
	for {
		key, _, ok := s.stringToken()
		if !ok {
			return false
		}
		s.skipSpace()
		if !s.consume(':') {
			return false
		}
		s.skipSpace()
		if !member(key) {
			return false
		}

		s.skipSpace()
		if s.consume('}') {
			return s.leave()
		}
		if !s.consume(',') {
			return false
		}
		s.skipSpace()
	}
}

// array reads an array and calls element with the scanner at each
// element, which element must read.
func (s *scanner) array(element func() bool) bool {
	if !s.enter('[') {
		return false
	}
	s.skipSpace()
	if s.consume(']') {
		return s.leave()
	}
	for {
		if !element() {
			return false
		}

		s.skipSpace()
		if s.consume(']') {
			return s.leave()
		}
		if !s.consume(',') {
			return false
		}
		s.skipSpace()
	}
}

// enter consumes the opening bracket of an object or array and gives up
// beyond maxScanDepth.
func (s *scanner) enter(bracket byte) bool {
	if !s.consume(bracket) {
		return false
	}
	s.depth++
	return s.depth <= maxScanDepth
}

// leave ends an object or array whose closing bracket was consumed.
func (s *scanner) leave() bool {
	s.depth--
	return true
}

// stringValue decodes a string token. When the content equals prev, it
// returns prev and allocates nothing. The items of one batch mostly share
// subscriptionId, tenantId, clientState and changeType, so this saves about
// half the allocations of batch-20-users.json. Other strings without
// escapes are copied as they are. The rare string with escapes goes to
// json.Unmarshal, so that escapes such as lone surrogates decode exactly as
// encoding/json decodes them.
func (s *scanner) stringValue(prev string) (string, bool) {
	start := s.pos
	content, escaped, ok := s.stringToken()
	if !ok {
		return "", false
	}
	if !escaped && string(content) == prev {
		return prev, true
	}
	if !escaped {
		return string(content), true
	}

	var value string
	if err := json.Unmarshal(s.data[start:s.pos], &value); err != nil {
		return "", false
	}
	return value, true
}

// stringToken reads a string token and returns its content between the
// quotes, and whether that content has escapes. It checks every escape and
// rejects control characters and invalid UTF-8, which encoding/json would
// replace with U+FFFD.
func (s *scanner) stringToken() (content []byte, escaped, ok bool) {
	if !s.consume('"') {
		return nil, false, false
	}
	start := s.pos
	ascii := true
	for {
		for s.pos < len(s.data) && isPlainStringByte[s.data[s.pos]] {
			s.pos++
		}
		if s.pos >= len(s.data) {
			return nil, false, false
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			content = s.data[start:s.pos]
			s.pos++
			return content, escaped, ascii || utf8.Valid(content)
		case c == '\\':
			escaped = true
			if !s.escape() {
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			ascii = false
			s.pos++
		}
	}
}

// isPlainStringByte is true for the bytes that stringToken passes over
// without a check: printable ASCII apart from the quote and the backslash.
var isPlainStringByte = func() (table [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		table[c] = c != '"' && c != '\\'
	}
	return table
}()

// escape reads one escape sequence inside a string, starting at its
// backslash.
func (s *scanner) escape() bool {
	if s.pos+1 >= len(s.data) {
		return false
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return true
	case 'u':
		if s.pos+6 > len(s.data) {
			return false
		}
		for _, c := range s.data[s.pos+2 : s.pos+6] {
			if !isHexDigit(c) {
				return false
			}
		}
		s.pos += 6
		return true
	}
	return false
}

// number reads a number token, as JSON defines it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// It returns the token's text.
func (s *scanner) number() ([]byte, bool) {
	start := s.pos
	s.consume('-')
	if !s.consume('0') {
		if s.pos >= len(s.data) || s.data[s.pos] < '1' || s.data[s.pos] > '9' {
			return nil, false
		}
		s.skipDigits()
	}
	if s.consume('.') && s.skipDigits() == 0 {
		return nil, false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if s.skipDigits() == 0 {
			return nil, false
		}
	}
	return s.data[start:s.pos], true
}

// skipDigits moves past a run of decimal digits and returns its length.
func (s *scanner) skipDigits() int {
	start := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// literal reads the literal word: true, false or null.
func (s *scanner) literal(word string) bool {
	end := s.pos + len(word)
	if end > len(s.data) || string(s.data[s.pos:end]) != word {
		return false
	}
	s.pos = end
	return true
}

// consume moves past c if it is the next byte.
func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// skipSpace moves past JSON whitespace: space, tab, line feed and carriage
// return.
func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}
