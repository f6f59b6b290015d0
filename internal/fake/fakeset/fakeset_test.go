package fakeset

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestStartRegistersApp(t *testing.T) {
	s, err := Start(Options{TenantID: "t1", ClientID: "c1", ClientSecret: "secret", SCIMToken: "key"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Close()

	path := filepath.Join(t.TempDir(), "fakes.pem")
	if err := s.WriteCertificates(path); err != nil {
		t.Fatalf("WriteCertificates: %v", err)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		t.Error("the certificate file contains no certificate")
	}
	if s.Graph.BaseURL() == "" || s.SCIM.BaseURL() == "" || s.Entra.AuthorityHost() == "" {
		t.Error("a fake has no address")
	}
}
