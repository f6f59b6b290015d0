package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/server"
)

// sessionCookie is the name of the session cookie.
const sessionCookie = "entrabridge_admin_session"

// csrfField is the form field that carries the CSRF token.
const csrfField = "csrf_token"

// authKey is the echo.Context key of the request's auth.
const authKey = "admin.auth"

// auth records the credential that authenticated a request.
type auth struct {
	// session is the session cookie's value. It is empty for a bearer
	// token.
	session string
}

func (a auth) method() string {
	if a.session == "" {
		return "bearer"
	}
	return "session"
}

// requireAuth lets a request through when it carries the token as a
// bearer token or a valid session cookie. A wrong bearer token gets 401
// and counts against the client's failure limit. Without credentials, a
// GET is redirected to the login form and any other method gets 401.
func (h *Handler) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if header := c.Request().Header.Get(echo.HeaderAuthorization); header != "" {
			return h.checkBearer(c, header, next)
		}
		if cookie, err := c.Cookie(sessionCookie); err == nil && h.keys.validSession(cookie.Value, h.now()) {
			c.Set(authKey, auth{session: cookie.Value})
			return next(c)
		}
		if c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusFound, BasePath+"/login")
		}
		return h.renderUnauthorized(c, "Log in to use the admin page.")
	}
}

func (h *Handler) checkBearer(c echo.Context, header string, next echo.HandlerFunc) error {
	addr := c.RealIP()
	if wait := h.failures.blockedFor(addr, h.now()); wait > 0 {
		return h.renderTooManyFailures(c, wait)
	}
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") || !h.keys.validToken(strings.TrimSpace(token)) {
		h.recordFailure(c, addr, "bearer")
		return h.renderUnauthorized(c, "The Authorization header does not carry the admin token.")
	}
	h.failures.reset(addr)
	c.Set(authKey, auth{})
	return next(c)
}

// requireCSRF rejects with 403 a form sent with the session cookie whose
// CSRF token is missing or belongs to another session. Bearer requests
// need none, because a browser sends an Authorization header cross-site
// only after a CORS preflight, and the server sets no CORS headers.
func (h *Handler) requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, _ := c.Get(authKey).(auth)
		if a.session != "" && !h.keys.validCSRFToken(a.session, c.FormValue(csrfField)) {
			h.logger.WarnContext(c.Request().Context(), "admin form rejected: missing or invalid CSRF token",
				"path", c.Request().URL.Path, "remote_ip", c.RealIP(), "request_id", server.RequestID(c))
			return h.renderError(c, http.StatusForbidden,
				"The form did not carry this session's CSRF token. Reload the admin page and try again.")
		}
		return next(c)
	}
}

func (h *Handler) renderUnauthorized(c echo.Context, message string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="entrabridge admin"`)
	return h.renderError(c, http.StatusUnauthorized, message)
}

// setCookie sets an admin cookie. It is Secure when the request came over
// TLS or a proxy reports https, so a browser never sends it over plain
// HTTP once it was set over HTTPS.
func setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     name,
		Value:    value,
		Path:     BasePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   cameOverHTTPS(c.Request()),
		SameSite: http.SameSiteStrictMode,
	})
}

// cameOverHTTPS reports whether r arrived over TLS or with
// X-Forwarded-Proto https. The header is trusted from any client, because
// a false https only makes the cookie Secure, which breaks the sender's
// own session and no other.
func cameOverHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get(echo.HeaderXForwardedProto), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
