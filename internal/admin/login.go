package admin

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/server"
)

// tokenField is the login form's field for the admin token.
const tokenField = "token"

// loginPage is the data of login.html.
type loginPage struct {
	frame
	Error string
}

// serveLogin shows the login form, or redirects to the overview when the
// session is still valid.
func (h *Handler) serveLogin(c echo.Context) error {
	if cookie, err := c.Cookie(sessionCookie); err == nil && h.keys.validSession(cookie.Value, h.now()) {
		return c.Redirect(http.StatusSeeOther, BasePath)
	}
	return h.render(c, http.StatusOK, "login.html", loginPage{
		frame: frame{Title: "Log in", Flash: h.takeFlash(c), RequestID: server.RequestID(c)},
	})
}

// login checks the posted token. The right token sets a session cookie and
// redirects to the overview. A wrong one shows the form again with 401 and
// counts against the client's failure limit.
func (h *Handler) login(c echo.Context) error {
	addr := c.RealIP()
	now := h.now()
	if wait := h.failures.blockedFor(addr, now); wait > 0 {
		return h.renderTooManyFailures(c, wait)
	}
	if !h.keys.validToken(c.FormValue(tokenField)) {
		h.recordFailure(c, addr, "login form")
		return h.render(c, http.StatusUnauthorized, "login.html", loginPage{
			frame: frame{Title: "Log in", RequestID: server.RequestID(c)},
			Error: "That is not the admin token.",
		})
	}

	h.failures.reset(addr)
	setCookie(c, sessionCookie, h.keys.newSession(now), int(sessionTTL/time.Second))
	h.logger.InfoContext(c.Request().Context(), "admin logged in",
		"remote_ip", addr, "request_id", server.RequestID(c))
	return c.Redirect(http.StatusSeeOther, BasePath)
}

// logout deletes the session cookie in the browser. The session value
// itself stays valid until it expires, because no session is stored on
// the server. Changing ADMIN_TOKEN ends every session at once.
func (h *Handler) logout(c echo.Context) error {
	setCookie(c, sessionCookie, "", -1)
	h.setFlash(c, flashLoggedOut, "")
	return c.Redirect(http.StatusSeeOther, BasePath+"/login")
}

// recordFailure counts a wrong token from addr and logs it, without the
// token. Each address logs at most maxLoginFailures lines per window,
// because a blocked address is rejected before its token is checked.
func (h *Handler) recordFailure(c echo.Context, addr, via string) {
	count := h.failures.fail(addr, h.now())
	h.logger.WarnContext(c.Request().Context(), "admin token rejected",
		"via", via, "remote_ip", addr, "failures", count,
		"max_failures", maxLoginFailures, "request_id", server.RequestID(c))
}

func (h *Handler) renderTooManyFailures(c echo.Context, wait time.Duration) error {
	minutes := int(math.Ceil(wait.Minutes()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return h.renderError(c, http.StatusTooManyRequests, fmt.Sprintf(
		"Too many wrong tokens from your address. Try again in %d min.", minutes))
}
