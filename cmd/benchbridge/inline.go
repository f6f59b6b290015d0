package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/notification"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// inlineTimeout bounds each Graph and SCIM call of the inline baseline.
const inlineTimeout = 10 * time.Second

// inlineSync is the receiver of Microsoft's webhook samples, adapted to
// this job. For each notification in turn it reads the user from Graph and
// PATCHes SCIM, and only then responds. It neither queues, retries nor
// dedupes.
type inlineSync struct {
	clientState []byte
	graphURL    string
	token       string
	http        *http.Client
	scim        *scim.Client
}

// serveInline runs the inline baseline on BENCHBRIDGE_LISTEN against the
// Graph and SCIM endpoints named in env.
func serveInline(ctx context.Context, env map[string]string, _ io.Writer) error {
	for _, name := range []string{envListen, envClientState, envGraphURL, envTokenURL, envClientID,
		envClientSecret, envSCIMURL, envSCIMToken} {
		if env[name] == "" {
			return fmt.Errorf("%s is not set: benchbridge sets it when it starts this baseline", name)
		}
	}
	// Graph and SCIM calls of concurrent requests share connections, as
	// a sample reusing one HttpClient would.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 1024
	client := &http.Client{Transport: transport, Timeout: inlineTimeout}

	token, err := fetchToken(ctx, client, env[envTokenURL], env[envClientID], env[envClientSecret])
	if err != nil {
		return err
	}
	sc, err := scim.New(env[envSCIMURL], env[envSCIMToken], scim.Options{HTTPClient: client})
	if err != nil {
		return err
	}
	s := &inlineSync{clientState: []byte(env[envClientState]), graphURL: env[envGraphURL],
		token: token, http: client, scim: sc}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	e.POST("/webhooks/graph", s.handle)
	return listenAndServe(ctx, env[envListen], e)
}

func (s *inlineSync) handle(c echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, baselineBodyLimit))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "read body")
	}
	items, err := notification.Decode(body)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	for _, it := range items {
		if subtle.ConstantTimeCompare([]byte(it.ClientState), s.clientState) != 1 {
			continue
		}
		id, err := it.UserID()
		if err != nil {
			continue
		}
		if err := s.sync(c.Request().Context(), id); err != nil {
			return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
		}
	}
	return c.NoContent(http.StatusAccepted)
}

// sync reads the user from Graph and writes its UPN and mail to the SCIM
// user with the same ID.
func (s *inlineSync) sync(ctx context.Context, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		s.graphURL+"/users/"+url.PathEscape(id)+"?$select=id,userPrincipalName,mail", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("read graph user %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read graph user %s: status %d", id, resp.StatusCode)
	}
	var user struct {
		UserPrincipalName string `json:"userPrincipalName"`
		Mail              string `json:"mail"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&user); err != nil {
		return fmt.Errorf("decode graph user %s: %w", id, err)
	}

	ops := []scim.Operation{scim.ReplaceUserName(user.UserPrincipalName), scim.ReplaceWorkEmailValue(user.Mail)}
	if _, err := s.scim.PatchUser(ctx, id, ops); err != nil {
		return fmt.Errorf("patch scim user %s: %w", id, err)
	}
	return nil
}

// fetchToken gets a Graph access token with the client credentials grant.
func fetchToken(ctx context.Context, client *http.Client, tokenURL, clientID, secret string) (string, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {secret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("request graph token: %w", err)
	}
	defer resp.Body.Close()
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&token); err != nil || resp.StatusCode != http.StatusOK {
		return "", errors.Join(fmt.Errorf("request graph token: status %d", resp.StatusCode), err)
	}
	return token.AccessToken, nil
}
