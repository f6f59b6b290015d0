package scim

import (
	"fmt"
	"strings"
)

// Filter returns the SCIM filter expression `attr eq "value"` with value
// written as a JSON string (RFC 7644 section 3.4.2.2): a backslash or
// double quote is escaped with a backslash, and control characters use
// JSON escapes. Filter does not check attr. FindUsers does.
func Filter(attr, value string) string {
	return attr + " eq " + quoteFilterValue(value)
}

// quoteFilterValue writes value as a JSON string. It differs from
// encoding/json in two ways that filter parsers notice: it leaves <, > and
// & as they are, and it writes \u escapes with upper-case hex digits, the
// only form that some parsers (github.com/scim2/filter-parser v2.3.1)
// accept.
func quoteFilterValue(value string) string {
	var b strings.Builder
	b.Grow(len(value) + 2)
	b.WriteByte('"')
	for _, r := range value {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04X`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
