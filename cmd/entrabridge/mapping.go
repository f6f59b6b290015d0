package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// objectIDPattern matches an Entra object ID (a GUID).
var objectIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (c *cli) mappingCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Manage the map from Entra object IDs to Atlassian SCIM user IDs",
		Long: "The bridge addresses each Atlassian SCIM user by the ID mapped from the Entra\n" +
			"object ID. It fills the map by itself from SCIM externalId; these commands\n" +
			"import, inspect and correct it.",
	}
	cmd.AddCommand(
		c.bootstrapCommand(),
		&cobra.Command{
			Use:   "import FILE.csv",
			Short: "Load objectId,scimUserId rows (a header row is allowed)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				rows, err := readMappingCSV(args[0])
				if err != nil {
					return err
				}
				return c.withStore(cmd, func(s *redisstore.Store) error {
					if err := s.ImportMappings(cmd.Context(), rows); err != nil {
						return fmt.Errorf("import mappings: %w", err)
					}
					fmt.Fprintf(c.stdout, "imported %d mappings\n", len(rows))
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "export",
			Short: "Write every mapping as objectId,scimUserId CSV to standard output",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return c.withStore(cmd, func(s *redisstore.Store) error {
					w := csv.NewWriter(c.stdout)
					_ = w.Write([]string{"objectId", "scimUserId"})
					err := s.Mappings(cmd.Context(), func(objectID, scimID string) error {
						return w.Write([]string{objectID, scimID})
					})
					w.Flush()
					return errors.Join(err, w.Error())
				})
			},
		},
		&cobra.Command{
			Use:   "get OBJECT_ID",
			Short: "Print the SCIM user ID mapped from an Entra object ID",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.withStore(cmd, func(s *redisstore.Store) error {
					id, ok, err := s.Mapping(cmd.Context(), args[0])
					if err != nil {
						return err
					}
					if !ok {
						return fmt.Errorf("no mapping for %s", args[0])
					}
					fmt.Fprintln(c.stdout, id)
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "set OBJECT_ID SCIM_USER_ID",
			Short: "Map an Entra object ID to a SCIM user ID",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := checkMappingRow(args[0], args[1]); err != nil {
					return err
				}
				return c.withStore(cmd, func(s *redisstore.Store) error {
					return s.SetMapping(cmd.Context(), args[0], args[1])
				})
			},
		},
		&cobra.Command{
			Use:   "delete OBJECT_ID",
			Short: "Forget the mapping of an Entra object ID; the next sync resolves it again",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.withStore(cmd, func(s *redisstore.Store) error {
					return s.DeleteMapping(cmd.Context(), args[0])
				})
			},
		},
	)
	return cmd
}

// withStore runs fn with a connection to the bridge's Redis.
func (c *cli) withStore(cmd *cobra.Command, fn func(*redisstore.Store) error) error {
	s, err := c.connect(cmd.Context())
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// readMappingCSV reads objectId,scimUserId rows. It rejects the whole file
// on the first bad row, naming its line, so that nothing half-imports.
func readMappingCSV(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open mapping file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	r.TrimLeadingSpace = true
	rows := make(map[string]string)
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objectID, scimID := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if line == 1 && strings.EqualFold(objectID, "objectId") {
			continue
		}
		if err := checkMappingRow(objectID, scimID); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		rows[objectID] = scimID
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s has no mapping rows", path)
	}
	return rows, nil
}

func checkMappingRow(objectID, scimID string) error {
	if !objectIDPattern.MatchString(objectID) {
		return fmt.Errorf("object ID %q is not an Entra object ID (a GUID)", objectID)
	}
	if scimID == "" || strings.ContainsAny(scimID, "/?# ") {
		return fmt.Errorf("SCIM user ID %q is invalid", scimID)
	}
	return nil
}
