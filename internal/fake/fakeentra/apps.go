package fakeentra

import (
	"crypto/subtle"
	"crypto/x509"
	"net/url"
)

// appKey identifies an app registration within a tenant.
type appKey struct {
	tenantID string
	clientID string
}

// app is one app registration and the credentials it accepts. Like Entra,
// an app may hold a secret, a certificate and a federated credential at
// once, and any of them authenticates it.
type app struct {
	secret      string
	certificate *x509.Certificate
	// federatedAssertion is the exact client_assertion a workload identity
	// presents, for example the Kubernetes service account token.
	federatedAssertion string
}

// AddClient registers, or adds a secret to, the app clientID in tenantID.
func (s *Server) AddClient(tenantID, clientID, secret string) {
	s.updateApp(tenantID, clientID, func(a *app) { a.secret = secret })
}

// AddCertificateClient registers, or adds a certificate to, the app clientID
// in tenantID. The app then accepts client assertions signed with the
// certificate's RSA key, as azidentity.ClientCertificateCredential sends.
func (s *Server) AddCertificateClient(tenantID, clientID string, cert *x509.Certificate) {
	s.updateApp(tenantID, clientID, func(a *app) { a.certificate = cert })
}

// AddFederatedClient registers, or adds a federated credential to, the app
// clientID in tenantID. The app then accepts assertion verbatim as its
// client_assertion, as azidentity.WorkloadIdentityCredential sends it from
// its token file. Unlike Entra, the server does not parse or validate the
// assertion as a JWT.
func (s *Server) AddFederatedClient(tenantID, clientID, assertion string) {
	s.updateApp(tenantID, clientID, func(a *app) { a.federatedAssertion = assertion })
}

func (s *Server) updateApp(tenantID, clientID string, update func(*app)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := appKey{tenantID: tenantID, clientID: clientID}
	a, ok := s.apps[key]
	if !ok {
		a = &app{}
		s.apps[key] = a
	}
	update(a)
}

// lookupApp returns a copy of the app registration clientID in tenantID.
func (s *Server) lookupApp(tenantID, clientID string) (app, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey{tenantID: tenantID, clientID: clientID}]
	if !ok {
		return app{}, false
	}
	return *a, true
}

// tenantKnown reports whether any app is registered in tenantID; the server
// has no tenants apart from those its apps name.
func (s *Server) tenantKnown(tenantID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.apps {
		if key.tenantID == tenantID {
			return true
		}
	}
	return false
}

// clientAssertionType is the only client_assertion_type Entra accepts.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticate checks the client credential in a token request form and
// returns nil or the Entra error to send.
func (a app) authenticate(form url.Values, tokenEndpoint string, clientID string) *entraError {
	if secret := form.Get("client_secret"); secret != "" {
		if a.secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) != 1 {
			return errInvalidSecret(clientID)
		}
		return nil
	}

	assertion := form.Get("client_assertion")
	if assertion == "" {
		return errMissingCredential()
	}
	if form.Get("client_assertion_type") != clientAssertionType {
		return errInvalidAssertionType()
	}
	if a.federatedAssertion != "" &&
		subtle.ConstantTimeCompare([]byte(assertion), []byte(a.federatedAssertion)) == 1 {
		return nil
	}
	if a.certificate != nil {
		if err := verifyClientAssertion(assertion, a.certificate, tokenEndpoint, clientID); err != nil {
			return errInvalidAssertion(err)
		}
		return nil
	}
	return errInvalidAssertion(errNoMatchingCredential)
}
