package main

import (
	"testing"

	"github.com/entrabridge/entrabridge/internal/notification"
)

func TestNotificationBodyDecodes(t *testing.T) {
	ids := newObjectIDs(3)

	items, err := notification.Decode(notificationBody("state", ids, firstSequenceNumber))
	if err != nil {
		t.Fatalf("Decode: got error %v, want nil", err)
	}

	if len(items) != len(ids) {
		t.Fatalf("items: got %d, want %d", len(items), len(ids))
	}
	for i, it := range items {
		if it.Err != nil {
			t.Errorf("item %d: got error %v, want nil", i, it.Err)
		}
		if got, err := it.UserID(); err != nil || got != ids[i] {
			t.Errorf("item %d user ID: got %q, %v; want %q", i, got, err, ids[i])
		}
		if it.ClientState != "state" {
			t.Errorf("item %d clientState: got %q, want state", i, it.ClientState)
		}
	}
	if got := items[2].ResourceData.SequenceNumber.String(); got != "638746176301234569" {
		t.Errorf("third sequenceNumber: got %s, want 638746176301234569", got)
	}
}

func TestBodyPoolCyclesUsers(t *testing.T) {
	ids := []string{"de9e559d-648b-48cb-8882-eeae2191a3ae", "30498315-5bdd-4366-9f85-0c6d90ff0f0f",
		"cff6d65f-a908-4da9-82ba-2c8240fddb76"}

	bodies := bodyPool("state", ids, 2, 3)

	var got []string
	for _, body := range bodies {
		items, err := notification.Decode(body)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		for _, it := range items {
			id, _ := it.UserID()
			got = append(got, id)
		}
	}
	want := []string{ids[0], ids[1], ids[2], ids[0], ids[1], ids[2]}
	if len(got) != len(want) {
		t.Fatalf("users: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("user %d: got %s, want %s", i, got[i], want[i])
		}
	}
}
