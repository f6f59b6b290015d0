package admin

import (
	"fmt"
	"html/template"
	"time"
)

// templateFuncs are the functions the templates call.
var templateFuncs = template.FuncMap{
	"timestamp": formatTimestamp,
	"relative":  formatRelative,
	"iso":       formatISO,
}

// formatTimestamp returns t in UTC to the second, or "–" for the zero
// time.
func formatTimestamp(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// formatISO returns t as RFC 3339 for a <time datetime> attribute.
func formatISO(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatRelative returns how far t is from now, such as "5m ago" or
// "in 2d 3h", or "" for the zero time.
func formatRelative(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := t.Sub(now)
	if d < 0 {
		return formatSpan(-d) + " ago"
	}
	return "in " + formatSpan(d)
}

// formatSpan returns d in its two largest units, such as "2d 3h".
func formatSpan(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}
