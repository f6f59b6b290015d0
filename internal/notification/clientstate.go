package notification

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// maxClientStateLen is the longest clientState Graph accepts on a
// subscription (128 characters, per the subscription resource reference).
const maxClientStateLen = 128

// clientStates holds the SHA-256 digests of the accepted secrets. Comparing
// digests of equal length keeps the comparison time independent of the
// secret's length as well as its content.
type clientStates [][sha256.Size]byte

func newClientStates(secrets []string) (clientStates, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no clientState configured: set at least one subscription secret")
	}
	digests := make(clientStates, len(secrets))
	for i, secret := range secrets {
		if secret == "" {
			return nil, fmt.Errorf("clientState %d is empty", i)
		}
		if len(secret) > maxClientStateLen {
			return nil, fmt.Errorf("clientState %d is %d bytes long, Graph accepts at most %d",
				i, len(secret), maxClientStateLen)
		}
		digests[i] = sha256.Sum256([]byte(secret))
	}
	return digests, nil
}

// match reports whether value equals one of the secrets. It compares
// against every secret without stopping early, so the time taken does not
// show which one matched.
func (s clientStates) match(value string) bool {
	got := sha256.Sum256([]byte(value))
	matched := 0
	for _, want := range s {
		matched |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return matched == 1
}
