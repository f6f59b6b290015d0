package notification

import (
	"fmt"
	"strings"
)

// maxItemErrors caps the per-item errors in a response, so that a large
// rejected batch does not produce a large response. Rejected still counts
// them all.
const maxItemErrors = 20

// maxSummaryReasons caps how many distinct reasons a 400 message lists.
const maxSummaryReasons = 3

// AcceptedBody is the JSON body of a 202 response.
type AcceptedBody struct {
	// Accepted counts the queued change and lifecycle items.
	Accepted int `json:"accepted"`
	// Rejected counts the items that were not queued.
	Rejected int `json:"rejected"`
	// Errors lists the first rejected items, at most 20.
	Errors    []ItemError `json:"errors"`
	RequestID string      `json:"request_id"`
}

// ItemError is the rejection reason of the item at Index of the value array.
type ItemError struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

func newAcceptedBody(b batch, requestID string) AcceptedBody {
	errs := make([]ItemError, 0, min(len(b.rejections), maxItemErrors))
	for _, r := range b.rejections[:min(len(b.rejections), maxItemErrors)] {
		errs = append(errs, ItemError{Index: r.index, Reason: r.message})
	}
	return AcceptedBody{
		Accepted:  b.accepted(),
		Rejected:  len(b.rejections),
		Errors:    errs,
		RequestID: requestID,
	}
}

// noValidItemsMessage explains a body with no item to queue, for example
// "no valid notification: 2 items rejected: clientState does not match".
func noValidItemsMessage(total int, rejections []rejection) string {
	if total == 0 {
		return `no valid notification: the "value" array is empty`
	}

	var messages []string
	counts := map[string]int{}
	for _, r := range rejections {
		if counts[r.message] == 0 {
			messages = append(messages, r.message)
		}
		counts[r.message]++
	}

	summary := fmt.Sprintf("no valid notification: %d %s rejected: ", total, plural(total, "item", "items"))
	if len(messages) == 1 {
		return summary + messages[0]
	}
	parts := make([]string, 0, maxSummaryReasons+1)
	for _, m := range messages[:min(len(messages), maxSummaryReasons)] {
		parts = append(parts, fmt.Sprintf("%s (%d)", m, counts[m]))
	}
	if extra := len(messages) - maxSummaryReasons; extra > 0 {
		parts = append(parts, fmt.Sprintf("%d other %s", extra, plural(extra, "reason", "reasons")))
	}
	return summary + strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
