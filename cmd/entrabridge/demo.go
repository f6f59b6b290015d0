package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakeset"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func (c *cli) demoCommand() *cobra.Command {
	var payloads string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline against in-process fakes of Entra, Graph and Atlassian",
		Long: "demo starts an in-process Redis and HTTPS fakes of the Entra token endpoint,\n" +
			"Microsoft Graph and Atlassian SCIM with a handful of users, renames some of them\n" +
			"in the fake Graph, and posts the recorded notifications from testdata/notifications\n" +
			"through the real receiver, queue and worker (the real msgraph-sdk-go and\n" +
			"azidentity clients). It prints what changed in Graph and which PATCH reached\n" +
			"Atlassian for each user, and exits 0 when every expected change arrived.\n" +
			"It needs no network and no configuration.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runDemo(cmd.Context(), payloads, verbose)
		},
	}
	cmd.Flags().StringVar(&payloads, "payloads", filepath.Join("testdata", "notifications"),
		"folder with the recorded notification payloads")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "show the bridge's own log")
	return cmd
}

// demoUser is one scenario: a user as Graph and Atlassian hold it before,
// the change made in Graph, and the SCIM state the bridge must reach.
type demoUser struct {
	label  string
	id     string
	before fakegraph.User
	after  fakegraph.User
	// patched is whether the bridge must send a PATCH.
	patched bool
	// removed deletes the user from Graph instead of changing it.
	removed bool
}

func demoUsers() []demoUser {
	u := func(id, upn, mail string) fakegraph.User {
		return fakegraph.User{ID: id, UserPrincipalName: upn, Mail: mail, AccountEnabled: true}
	}
	const (
		adele     = "de9e559d-648b-48cb-8882-eeae2191a3ae"
		alex      = "30498315-5bdd-4366-9f85-0c6d90ff0f0f"
		diego     = "cff6d65f-a908-4da9-82ba-2c8240fddb76"
		grady     = "1b957e89-147b-4e62-b144-6dcc230be6a3"
		henrietta = "5a510771-4f49-4600-bb68-15bedeec91e8"
		joni      = "3cc93ec7-b3a9-4d5e-b3d4-90de443ea887"
	)
	diegoAfter := u(diego, "diego.siciliani@contoso.com", "diego.siciliani@contoso.com")
	diegoAfter.DisplayName = "Diego Siciliani (Sales)"
	return []demoUser{
		{label: "rename (UPN and mail)", id: adele, patched: true,
			before: u(adele, "adele.vance@contoso.com", "adele.vance@contoso.com"),
			after:  u(adele, "adele.kowalski@contoso.com", "adele.kowalski@contoso.com")},
		{label: "rename, 3 duplicate notifications", id: alex, patched: true,
			before: u(alex, "alex.wilber@contoso.com", "alex.wilber@contoso.com"),
			after:  u(alex, "alex.o'wilber@contoso.com", "alex.o'wilber@contoso.com")},
		{label: "display name only", id: diego,
			before: u(diego, "diego.siciliani@contoso.com", "diego.siciliani@contoso.com"),
			after:  diegoAfter},
		{label: "no mailbox: email from UPN", id: grady, patched: true,
			before: u(grady, "grady.archie@contoso.com", ""),
			after:  u(grady, "grady.archer@contoso.com", "")},
		{label: "guest (#EXT#) with new mail", id: henrietta, patched: true,
			before: u(henrietta, "henrietta_fabrikam.com#EXT#@contoso.onmicrosoft.com", "henrietta@fabrikam.com"),
			after:  u(henrietta, "henrietta_fabrikam.com#EXT#@contoso.onmicrosoft.com", "h.mueller@fabrikam.com")},
		{label: "deleted in Entra", id: joni, removed: true,
			before: u(joni, "joni.sherman@contoso.com", "joni.sherman@contoso.com")},
	}
}

// demoPayloads are posted in this order. The wrong-clientState payload
// names users that also change, to show that it is rejected, not queued.
var demoPayloads = []struct {
	file     string
	path     string
	accepted bool
}{
	{"single-update.json", "/webhooks/graph", true},
	{"duplicates-same-user.json", "/webhooks/graph", true},
	{"batch-5-users.json", "/webhooks/graph", true},
	{"wrong-client-state.json", "/webhooks/graph", false},
	{"deleted.json", "/webhooks/graph", true},
	{"lifecycle-reauthorization-required.json", "/webhooks/graph/lifecycle", true},
}

type demoEnv struct {
	*fakeset.Set
	// secret is the client secret of the demo app at the fake Entra.
	secret string
	// scimIDs maps Entra object IDs to the fake SCIM user IDs.
	scimIDs map[string]string
}

func (c *cli) runDemo(ctx context.Context, payloads string, verbose bool) error {
	if _, err := os.Stat(filepath.Join(payloads, "single-update.json")); err != nil {
		return fmt.Errorf("recorded payloads not found in %s: run the demo from the repository root "+
			"or pass --payloads", payloads)
	}
	env, err := startDemoFakes()
	if err != nil {
		return err
	}
	defer env.Close()
	users := demoUsers()
	env.seed(users)

	clientState := randomHex(16)
	cfg, err := demoConfig(env, clientState)
	if err != nil {
		return err
	}
	store, _, err := redisstore.OpenEmbedded(redisstore.Options{Prefix: cfg.KeyPrefix})
	if err != nil {
		return fmt.Errorf("start embedded redis: %w", err)
	}
	defer store.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logOut := io.Discard
	if verbose {
		logOut = c.stderr
	}

	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- serve(serveCtx, app{
			cfg: cfg, roles: []config.Role{config.RoleReceiver, config.RoleWorker},
			log: newLogger(cfg, logOut), httpClient: env.Entra.Client(), listener: ln, store: store,
		})
	}()
	base := "http://" + ln.Addr().String()

	fmt.Fprintf(c.stdout, "entrabridge demo: receiver on %s, fakes of Entra, Graph and Atlassian SCIM over HTTPS\n\n", base)
	err = c.demoSteps(ctx, env, users, base, payloads, clientState)
	stopServe()
	if serr := <-served; serr != nil && err == nil {
		err = serr
	}
	return err
}

func (c *cli) demoSteps(ctx context.Context, env *demoEnv, users []demoUser, base, payloads, clientState string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	if err := c.demoHandshake(ctx, client, base, payloads); err != nil {
		return err
	}

	for _, u := range users {
		if u.removed {
			env.Graph.DeleteUser(u.id)
		} else {
			env.Graph.PutUser(u.after)
		}
	}
	fmt.Fprintln(c.stdout, "posting recorded notifications:")
	for _, p := range demoPayloads {
		status, body, err := postPayload(ctx, client, base+p.path, filepath.Join(payloads, p.file), clientState)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "  %-42s %d %s\n", p.file, status, strings.TrimSpace(body))
		if (status == http.StatusAccepted) != p.accepted {
			return fmt.Errorf("%s: got status %d, want it %s", p.file, status, acceptedWord(p.accepted))
		}
	}

	fmt.Fprintln(c.stdout, "\nwaiting for the worker (debounce 1s)...")
	ok := env.waitConverged(ctx, users, 30*time.Second)
	// Wait a little longer so that an unexpected extra PATCH would show.
	time.Sleep(1500 * time.Millisecond)
	failures := c.demoReport(env, users)
	if !ok || failures > 0 {
		return fmt.Errorf("%d users did not end as expected", max(failures, 1))
	}
	fmt.Fprintln(c.stdout, "\nevery expected change reached Atlassian, and nothing else did.")
	return nil
}

func acceptedWord(accepted bool) string {
	if accepted {
		return "accepted (202)"
	}
	return "rejected"
}

func (c *cli) demoHandshake(ctx context.Context, client *http.Client, base, payloads string) error {
	raw, err := os.ReadFile(filepath.Join(payloads, "validation-token.txt"))
	if err != nil {
		return fmt.Errorf("read validation token: %w", err)
	}
	token := strings.TrimRight(string(raw), "\r\n")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		base+"/webhooks/graph?validationToken="+url.QueryEscape(token), http.NoBody)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("validation handshake: %w", err)
	}
	defer resp.Body.Close()
	echo, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(echo) != token {
		return fmt.Errorf("validation handshake: got %d %q, want 200 with the token", resp.StatusCode, echo)
	}
	fmt.Fprintf(c.stdout, "validation handshake: 200 %s, token echoed byte for byte\n\n",
		resp.Header.Get("Content-Type"))
	return nil
}

// demoReport prints one row per user and returns how many ended wrong.
func (c *cli) demoReport(env *demoEnv, users []demoUser) int {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nUSER\tCHANGE IN GRAPH\tPATCH RECEIVED BY ATLASSIAN\tRESULT")
	failures := 0
	for _, u := range users {
		id := env.scimIDs[u.id]
		ops := env.patchOps(id)
		ok := u.expectedState(env) && (len(ops) > 0) == u.patched && env.SCIM.Patches(id) <= 1
		if !ok {
			failures++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.before.UserPrincipalName, u.change(), summarize(ops), verdictWord(ok))
	}
	_ = tw.Flush()
	return failures
}

func (u demoUser) change() string {
	switch {
	case u.removed:
		return "deleted"
	case u.before.UserPrincipalName != u.after.UserPrincipalName:
		return "UPN → " + u.after.UserPrincipalName
	case u.before.Mail != u.after.Mail:
		return "mail → " + u.after.Mail
	}
	return u.label
}

// expectedState reports whether the SCIM record holds what the bridge must
// have written.
func (u demoUser) expectedState(env *demoEnv) bool {
	rec, ok := env.SCIM.User(env.scimIDs[u.id])
	if !ok {
		return false
	}
	want := u.before
	if u.patched {
		want = u.after
	}
	email := want.Mail
	if email == "" {
		email = want.UserPrincipalName
	}
	work, _ := rec.WorkEmail()
	return rec.UserName == want.UserPrincipalName && work.Value == email
}

func verdictWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}

// patchOps returns "op path=value" for every PATCH operation the fake
// Atlassian received for one SCIM user.
func (env *demoEnv) patchOps(scimID string) []string {
	var ops []string
	for _, r := range env.SCIM.Requests() {
		if r.Method != http.MethodPatch || !strings.HasSuffix(r.Path, "/Users/"+scimID) {
			continue
		}
		var body struct {
			Operations []struct {
				Op    string          `json:"op"`
				Path  string          `json:"path"`
				Value json.RawMessage `json:"value"`
			} `json:"Operations"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			ops = append(ops, "unreadable PATCH body")
			continue
		}
		for _, op := range body.Operations {
			ops = append(ops, fmt.Sprintf("%s %s=%s", op.Op, op.Path, op.Value))
		}
	}
	return ops
}

func summarize(ops []string) string {
	if len(ops) == 0 {
		return "none"
	}
	return strings.Join(ops, "; ")
}

func (env *demoEnv) waitConverged(ctx context.Context, users []demoUser, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !slices.ContainsFunc(users, func(u demoUser) bool {
			return u.patched && !u.expectedState(env)
		}) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

const (
	demoTenant   = "e51f0faa-edf2-4939-9a3e-34f9e953ccaf"
	demoClientID = "0d6f3c27-62f6-4a4e-9d7a-0c7b1c7b5a11"
	demoToken    = "demo-directory-api-key"
)

func startDemoFakes() (*demoEnv, error) {
	secret := randomHex(16)
	set, err := fakeset.Start(fakeset.Options{TenantID: demoTenant, ClientID: demoClientID,
		ClientSecret: secret, SCIMToken: demoToken})
	if err != nil {
		return nil, err
	}
	return &demoEnv{Set: set, secret: secret, scimIDs: map[string]string{}}, nil
}

// seed creates each user in Graph and in Atlassian as Entra provisioning
// would have: SCIM externalId holds the object ID.
func (env *demoEnv) seed(users []demoUser) {
	for _, u := range users {
		env.Graph.PutUser(u.before)
		email := u.before.Mail
		if email == "" {
			email = u.before.UserPrincipalName
		}
		rec := env.SCIM.AddUser(scim.User{
			ExternalID: u.id, UserName: u.before.UserPrincipalName,
			Emails: []scim.Email{{Value: email, Type: "work", Primary: true}},
		})
		env.scimIDs[u.id] = rec.ID
	}
}

func demoConfig(env *demoEnv, clientState string) (config.Config, error) {
	cfg, err := config.Load(map[string]string{
		"REDIS_URL":            config.Embedded,
		"REDIS_KEY_PREFIX":     "entrabridge-demo",
		"GRAPH_BASE_URL":       env.Graph.BaseURL(),
		"GRAPH_CLIENT_STATE":   clientState,
		"AZURE_TENANT_ID":      demoTenant,
		"AZURE_CLIENT_ID":      demoClientID,
		"AZURE_CLIENT_SECRET":  env.secret,
		"AZURE_AUTHORITY_HOST": env.Entra.AuthorityHost(),
		"ATLASSIAN_SCIM_URL":   env.SCIM.BaseURL(),
		"ATLASSIAN_SCIM_TOKEN": demoToken,
		"LOG_FORMAT":           "text",
		"SHUTDOWN_TIMEOUT":     "5s",
	})
	if err != nil {
		return cfg, errors.Join(errors.New("demo configuration"), err)
	}
	return cfg, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
