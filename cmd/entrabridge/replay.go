package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/config"
)

// clientStatePlaceholder stands for the real clientState in recorded
// payloads, so that no secret is ever committed with them.
const clientStatePlaceholder = "<client-state>"

func (c *cli) replayCommand() *cobra.Command {
	var (
		files       []string
		target      string
		clientState string
		since       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replay (--file PAYLOAD.json... --url URL | --since DURATION)",
		Short: "Post recorded notifications to a bridge, or re-drive accepted ones",
		Long: "With --file and --url, replay posts recorded Graph notification payloads to a\n" +
			"running bridge, replacing the placeholder " + clientStatePlaceholder + " with --client-state\n" +
			"(default GRAPH_CLIENT_STATE). Use it to test a deployment with the payloads in\n" +
			"testdata/notifications.\n\n" +
			"With --since, replay makes every user notified within that duration due for a\n" +
			"sync again, from the inbox history kept in Redis (INBOX_RETENTION), for example\n" +
			"after a deploy that synced wrongly. Syncs are idempotent: a user already in\n" +
			"step is read and left alone.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case since > 0 && len(files) == 0:
				return c.replaySince(cmd.Context(), since)
			case since == 0 && len(files) > 0 && target != "":
				if clientState == "" {
					clientState = c.env["GRAPH_CLIENT_STATE"]
				}
				return c.replayFiles(cmd.Context(), files, target, clientState)
			}
			return errors.New("use either --file with --url, or --since")
		},
	}
	cmd.Flags().StringSliceVar(&files, "file", nil, "recorded payload to post (repeatable)")
	cmd.Flags().StringVar(&target, "url", "", "notification URL of the bridge, e.g. http://127.0.0.1:8080/webhooks/graph")
	cmd.Flags().StringVar(&clientState, "client-state", "", "clientState to put in place of "+clientStatePlaceholder)
	cmd.Flags().DurationVar(&since, "since", 0, "re-drive notifications accepted within this duration, e.g. 2h")
	return cmd
}

func (c *cli) replayFiles(ctx context.Context, files []string, target, clientState string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q is invalid: want an absolute http or https URL", target)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	var failed int
	for _, f := range files {
		status, body, err := postPayload(ctx, client, target, f, clientState)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: %d %s\n", f, status, strings.TrimSpace(body))
		if status >= 300 {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d payloads were not accepted", failed, len(files))
	}
	return nil
}

// postPayload posts one recorded payload. A file ending in .token holds a
// validation token and is sent the way Graph validates an endpoint.
func postPayload(ctx context.Context, client *http.Client, target, file, clientState string) (int, string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return 0, "", fmt.Errorf("read payload: %w", err)
	}
	body := bytes.ReplaceAll(raw, []byte(clientStatePlaceholder), []byte(clientState))
	endpoint := target
	contentType := "application/json"
	if strings.HasSuffix(file, ".token") {
		endpoint = target + "?validationToken=" + url.QueryEscape(strings.TrimRight(string(raw), "\r\n"))
		body, contentType = nil, "text/plain"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("post %s: %w", file, err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post %s: %w", file, err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(reply), nil
}

func (c *cli) replaySince(ctx context.Context, since time.Duration) error {
	store, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	entries, users, err := store.ReplayInbox(ctx, time.Now().Add(-since))
	if err != nil {
		return fmt.Errorf("replay inbox: %w", err)
	}
	fmt.Fprintf(c.stdout, "replayed %d notifications: %d users due for a sync\n", entries, users)
	return nil
}

// loadConfig reads and validates the configuration for commands that only
// need Redis.
func (c *cli) loadConfig() (config.Config, error) {
	cfg, err := config.Load(c.env)
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if cfg.RedisURL == config.Embedded {
		return cfg, errors.New("REDIS_URL=embedded keeps nothing between processes: " +
			"point REDIS_URL at the Redis the bridge uses")
	}
	return cfg, nil
}
