package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"
)

// Identifiers of the tenant and subscription the generated notifications
// come from.
const (
	benchTenantID       = "e51f0faa-edf2-4939-9a3e-34f9e953ccaf"
	benchSubscriptionID = "8cd129ff-8499-432a-969c-6bfe388c3c3c"
	benchClientID       = "0b7e6d3c-5a4f-4e21-9d8c-7f6a5b4c3d2e"
)

// firstSequenceNumber is an 18-digit resourceData.sequenceNumber like
// those Graph sends, which float64 cannot hold exactly.
const firstSequenceNumber uint64 = 638746176301234567

// graphItem is one change notification as Graph posts it for users, with
// the fields and order of the recorded payloads in testdata/notifications.
type graphItem struct {
	ChangeType                     string           `json:"changeType"`
	ClientState                    string           `json:"clientState"`
	Resource                       string           `json:"resource"`
	ResourceData                   graphResourceRef `json:"resourceData"`
	SubscriptionExpirationDateTime string           `json:"subscriptionExpirationDateTime"`
	SubscriptionID                 string           `json:"subscriptionId"`
	TenantID                       string           `json:"tenantId"`
}

type graphResourceRef struct {
	ODataType      string `json:"@odata.type"`
	ODataID        string `json:"@odata.id"`
	ID             string `json:"id"`
	OrganizationID string `json:"organizationId"`
	EventTime      string `json:"eventTime"`
	SequenceNumber uint64 `json:"sequenceNumber"`
}

// notificationBody returns a request body with one updated notification
// per user ID, signed with clientState.
func notificationBody(clientState string, userIDs []string, sequence uint64) []byte {
	now := time.Now().UTC()
	items := make([]graphItem, len(userIDs))
	for i, id := range userIDs {
		items[i] = graphItem{
			ChangeType:  "updated",
			ClientState: clientState,
			Resource:    "Users/" + id,
			ResourceData: graphResourceRef{
				ODataType: "#Microsoft.Graph.User", ODataID: "Users/" + id, ID: id,
				OrganizationID: benchTenantID,
				EventTime:      now.Format("2006-01-02T15:04:05.0000000Z"),
				SequenceNumber: sequence + uint64(i),
			},
			SubscriptionExpirationDateTime: now.Add(24 * time.Hour).Format("2006-01-02T15:04:05.0000000+00:00"),
			SubscriptionID:                 benchSubscriptionID,
			TenantID:                       benchTenantID,
		}
	}
	body, err := json.Marshal(map[string][]graphItem{"value": items})
	if err != nil {
		panic(fmt.Sprintf("encode notification body: %v", err))
	}
	return body
}

// bodyPool returns count request bodies of size notifications each, whose
// users cycle through userIDs.
func bodyPool(clientState string, userIDs []string, size, count int) [][]byte {
	bodies := make([][]byte, count)
	next := 0
	for i := range bodies {
		ids := make([]string, size)
		for j := range ids {
			ids[j] = userIDs[next%len(userIDs)]
			next++
		}
		bodies[i] = notificationBody(clientState, ids, firstSequenceNumber+uint64(i*size))
	}
	return bodies
}

// cycle returns a body function for poster that goes round bodies.
func cycle(bodies [][]byte) func(int) []byte {
	return func(i int) []byte { return bodies[i%len(bodies)] }
}

// newObjectIDs returns n random GUIDs in lower case, the form of Entra
// object IDs.
func newObjectIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		ids[i] = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	return ids
}

// randomSecret returns a random clientState or API key.
func randomSecret() string {
	return rand.Text()
}
