package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func (c *cli) healthcheckCommand() *cobra.Command {
	var target string
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the bridge's health endpoint answers 200",
		Long: "healthcheck is for container health checks in images without a shell or curl:\n" +
			"it requests --url and exits 0 on 200, 1 otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := &http.Client{Timeout: 3 * time.Second}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, target, nil)
			if err != nil {
				return fmt.Errorf("--url %q is invalid: %w", target, err)
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("health check failed: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health check failed: %s returned %d", target, resp.StatusCode)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "url", "http://127.0.0.1:8080/healthz", "health endpoint to request")
	return cmd
}
