package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// sessionTTL is how long a login lasts: about one on-call shift.
const sessionTTL = 12 * time.Hour

// minTokenBytes is the token length below which Register warns. 32
// random characters carry well over 128 bits.
const minTokenBytes = 32

// maxSessionBytes bounds a session value before it is parsed. A valid one
// is about 90 bytes.
const maxSessionBytes = 256

// keys holds what the handler derives from the admin token. No session
// is stored on the server: a session is an expiry time and a random nonce
// signed with sessionKey, so changing the token invalidates every session.
type keys struct {
	// tokenHash is SHA-256 of the token. Candidates are hashed too, so
	// the comparison takes the same time whatever their length.
	tokenHash [sha256.Size]byte
	// sessionKey signs sessions and CSRF tokens.
	sessionKey []byte
}

func newKeys(token string) keys {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("entrabridge admin session key"))
	return keys{
		tokenHash:  sha256.Sum256([]byte(token)),
		sessionKey: mac.Sum(nil),
	}
}

// validToken reports whether candidate is the admin token, in constant
// time.
func (k keys) validToken(candidate string) bool {
	sum := sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(sum[:], k.tokenHash[:]) == 1
}

// newSession returns a session value that expires at now+sessionTTL, in
// the form "<expiry unix seconds>.<nonce>.<signature>".
func (k keys) newSession(now time.Time) string {
	payload := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10) + "." + rand.Text()
	return payload + "." + k.sign("session", payload)
}

// validSession reports whether value is a session this token signed that
// has not expired at now.
func (k keys) validSession(value string, now time.Time) bool {
	if len(value) > maxSessionBytes {
		return false
	}
	dot := strings.LastIndexByte(value, '.')
	if dot < 0 {
		return false
	}
	payload, signature := value[:dot], value[dot+1:]
	if !hmac.Equal([]byte(signature), []byte(k.sign("session", payload))) {
		return false
	}
	expiry, _, _ := strings.Cut(payload, ".")
	unix, err := strconv.ParseInt(expiry, 10, 64)
	return err == nil && now.Before(time.Unix(unix, 0))
}

// csrfToken returns the CSRF token of a session. Only a page served to
// that session contains it, and it is worthless with another session.
func (k keys) csrfToken(session string) string {
	return k.sign("csrf", session)
}

// validCSRFToken reports whether candidate is the CSRF token of session,
// in constant time.
func (k keys) validCSRFToken(session, candidate string) bool {
	return hmac.Equal([]byte(candidate), []byte(k.csrfToken(session)))
}

// sign returns the base64url HMAC-SHA256 of value under sessionKey. The
// purpose keeps a session signature from passing as a CSRF token.
func (k keys) sign(purpose, value string) string {
	mac := hmac.New(sha256.New, k.sessionKey)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
