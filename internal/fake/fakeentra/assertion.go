package fakeentra

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

var errNoMatchingCredential = errors.New("no credential of the app matches the assertion")

// assertionHeader is the JOSE header of a client assertion.
type assertionHeader struct {
	Algorithm string `json:"alg"`
}

// assertionClaims are the claims Entra requires in a certificate client
// assertion: aud is the token endpoint, iss and sub are the client ID.
type assertionClaims struct {
	Audience  string `json:"aud"`
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	ExpiresAt int64  `json:"exp"`
}

// verifyClientAssertion checks a JWT client assertion signed with the RSA
// key of cert. MSAL signs with PS256, or RS256 for ADFS authorities.
func verifyClientAssertion(assertion string, cert *x509.Certificate, audience, clientID string) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion has %d parts, want 3", len(parts))
	}

	var header assertionHeader
	if err := decodeSegment(parts[0], &header); err != nil {
		return fmt.Errorf("decode assertion header: %w", err)
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("decode assertion signature: %w", err)
	}
	if err := verifySignature(header.Algorithm, cert, parts[0]+"."+parts[1], signature); err != nil {
		return err
	}

	var claims assertionClaims
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("decode assertion claims: %w", err)
	}
	return claims.validate(audience, clientID, time.Now())
}

func verifySignature(algorithm string, cert *x509.Certificate, signed string, signature []byte) error {
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("certificate key is %T, want an RSA key", cert.PublicKey)
	}
	digest := sha256.Sum256([]byte(signed))

	switch algorithm {
	case "PS256":
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}
		if err := rsa.VerifyPSS(key, crypto.SHA256, digest[:], signature, opts); err != nil {
			return fmt.Errorf("assertion signature is invalid: %w", err)
		}
	case "RS256":
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], signature); err != nil {
			return fmt.Errorf("assertion signature is invalid: %w", err)
		}
	default:
		return fmt.Errorf("assertion algorithm %q is not supported, want PS256 or RS256", algorithm)
	}
	return nil
}

func (c assertionClaims) validate(audience, clientID string, now time.Time) error {
	switch {
	case c.Audience != audience:
		return fmt.Errorf("assertion aud is %q, want %q", c.Audience, audience)
	case c.Issuer != clientID || c.Subject != clientID:
		return fmt.Errorf("assertion iss %q and sub %q must both be the client ID %q",
			c.Issuer, c.Subject, clientID)
	case !now.Before(time.Unix(c.ExpiresAt, 0)):
		return fmt.Errorf("assertion expired at %s", time.Unix(c.ExpiresAt, 0).UTC())
	}
	return nil
}

func decodeSegment(segment string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
