package redisstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// millis formats t as unix milliseconds.
func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// timeFromMillis parses unix milliseconds; "", "0" and invalid text give
// the zero time.
func timeFromMillis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// streamIDTime returns the time part of a stream entry ID ("<ms>-<seq>").
func streamIDTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	return timeFromMillis(ms)
}

// validStreamID reports whether id has the form "<ms>-<seq>".
func validStreamID(id string) bool {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}

// field returns a stream entry's field as a string, or "".
func field(values map[string]any, name string) string {
	switch v := values[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// atoi parses a decimal integer; invalid text gives 0.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
