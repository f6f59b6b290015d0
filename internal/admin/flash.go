package admin

import (
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"
)

// flashCookie carries a one-time message across the 303 redirect that
// follows a form post.
const flashCookie = "entrabridge_admin_flash"

// flashMaxAge is the flash cookie's lifetime in seconds: long enough for
// the redirect, short enough that a lost one does not show up later.
const flashMaxAge = 60

// maxFlashIDBytes bounds the dead letter ID in a flash. A Redis stream ID
// is at most 41 bytes ("<20 digits>-<20 digits>").
const maxFlashIDBytes = 41

// Flash kinds. The cookie carries only the kind and a dead letter ID, and
// the page builds the text, so a planted cookie cannot show other text.
const (
	flashRetried   = "retried"
	flashDropped   = "dropped"
	flashLoggedOut = "logged_out"
)

// setFlash stores a flash of kind about the dead letter id for the next
// page.
func (h *Handler) setFlash(c echo.Context, kind, id string) {
	setCookie(c, flashCookie, kind+":"+id, flashMaxAge)
}

// takeFlash returns the text of the pending flash, or "", and deletes the
// flash cookie.
func (h *Handler) takeFlash(c echo.Context) string {
	cookie, err := c.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	setCookie(c, flashCookie, "", -1)
	kind, id, _ := strings.Cut(cookie.Value, ":")
	if len(id) > maxFlashIDBytes || strings.Trim(id, "0123456789-") != "" {
		return ""
	}
	switch kind {
	case flashRetried:
		return fmt.Sprintf("Dead letter %s retried: its user is due for sync now.", id)
	case flashDropped:
		return fmt.Sprintf("Dead letter %s dropped.", id)
	case flashLoggedOut:
		return "Logged out."
	}
	return ""
}
