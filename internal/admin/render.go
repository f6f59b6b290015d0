package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/server"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/admin.css
var stylesheet []byte

// stylesheetPath is the stylesheet's route under BasePath. It needs no
// login, so the login page is styled too.
const stylesheetPath = "/static/admin.css"

// contentSecurityPolicy allows the page's own stylesheet and form posts to
// its own origin, and nothing else: no script, image, frame or font.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// frame is the data the layout shows on every page.
type frame struct {
	Title string
	// CSRFToken, when set, shows the logout button. Pages with forms put it
	// in each form.
	CSRFToken string
	Flash     string
	RequestID string
}

// pages holds each page's template, each parsed together with the layout.
type pages map[string]*template.Template

// parsePages parses the embedded templates. It panics on a parse error,
// which only a broken build can cause.
func parsePages() pages {
	layout := template.Must(template.New("layout.html").Funcs(templateFuncs).
		ParseFS(templateFiles, "templates/layout.html"))
	p := make(pages)
	for _, name := range []string{"login.html", "overview.html", "error.html"} {
		t := template.Must(layout.Clone())
		p[name] = template.Must(t.ParseFS(templateFiles, "templates/"+name))
	}
	return p
}

// render writes the page name with data and status. It renders into a
// buffer first, so a template error produces a clean 500 instead of half
// a page.
func (h *Handler) render(c echo.Context, status int, name string, data any) error {
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("render admin page: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render admin page %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorPage is the data of error.html.
type errorPage struct {
	frame
	Status  int
	Message string
}

// renderError writes an HTML error page. It is used in place of the
// server's JSON errors for the statuses an operator meets in a browser.
func (h *Handler) renderError(c echo.Context, status int, message string) error {
	return h.render(c, status, "error.html", errorPage{
		frame:   frame{Title: http.StatusText(status), RequestID: server.RequestID(c)},
		Status:  status,
		Message: message,
	})
}

// setSecurityHeaders adds the security headers to every admin response,
// error responses included.
func setSecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Response().Header()
		header.Set("Content-Security-Policy", contentSecurityPolicy)
		header.Set("X-Content-Type-Options", "nosniff")
		header.Set("X-Frame-Options", "DENY")
		header.Set("Referrer-Policy", "no-referrer")
		header.Set("Cache-Control", "no-store")
		return next(c)
	}
}

func serveStylesheet(c echo.Context) error {
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", stylesheet)
}
