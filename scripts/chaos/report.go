package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// maxDeadLetters bounds how many dead letters the report reads.
const maxDeadLetters = 100_000

// drain waits until the queue has been empty (nothing in the inbox, due,
// scheduled or leased) at three polls in a row, or until ctx ends. It
// reports whether the queue drained.
func drain(ctx context.Context, store *redisstore.Store, fk *fakes, events *eventLog) bool {
	quiet := 0
	lastPrint := time.Now()
	for quiet < 3 {
		select {
		case <-ctx.Done():
			events.printf("drain: timed out with work still queued")
			return false
		case <-time.After(250 * time.Millisecond):
		}
		d, err := store.Depths(ctx)
		switch {
		case err != nil:
			quiet = 0
		case d.Due == 0 && d.Scheduled == 0 && d.InFlight == 0 && d.InboxPending == 0:
			quiet++
		default:
			quiet = 0
		}
		if time.Since(lastPrint) >= 5*time.Second {
			lastPrint = time.Now()
			events.printf("drain: inbox %d, due %d, scheduled %d, in flight %d, converged %d of %d",
				d.InboxPending, d.Due, d.Scheduled, d.InFlight, fk.convergedCount(), len(fk.users))
		}
	}
	events.printf("drain: queue empty")
	return true
}

// report is the outcome of a run.
type report struct {
	sent, accepted, serverErrors, connErrors, otherStatus int64
	renames                                               int64

	users, converged, deadLettered, unaccepted, lost int
	lostIDs                                          []string

	patches, overlaps, gateRejected int
	deadLetters                     map[string]int
	unexpectedExits                 int
	reclaimed                       int
	uncleanStops                    int
	drained                         bool
}

// collect compares every user's state in Graph with its SCIM record and
// gathers the counts.
func collect(ctx context.Context, ld *load, fk *fakes, store *redisstore.Store,
	bridges []*bridgeProcess, drained bool) (report, error) {
	r := report{
		sent: ld.sent.Load(), accepted: ld.accepted.Load(), serverErrors: ld.serverError.Load(),
		connErrors: ld.connError.Load(), otherStatus: ld.otherStatus.Load(), renames: ld.renames.Load(),
		users: len(fk.users), overlaps: fk.SCIM.Overlaps(), gateRejected: int(fk.gate.rejected.Load()),
		deadLetters: map[string]int{}, drained: drained,
	}
	for _, req := range fk.SCIM.Requests() {
		if req.Method == http.MethodPatch {
			r.patches++
		}
	}
	for _, b := range bridges {
		r.unexpectedExits += b.unexpected()
		n, err := b.reclaimedUsers()
		if err != nil {
			return r, err
		}
		r.reclaimed += n
	}

	dls, err := store.DeadLetters(ctx, maxDeadLetters)
	if err != nil {
		return r, fmt.Errorf("read dead letters: %w", err)
	}
	deadUsers := map[string]bool{}
	for _, d := range dls {
		r.deadLetters[d.Reason]++
		deadUsers[d.UserID] = true
	}

	for i, u := range fk.users {
		switch {
		case fk.converged(u):
			r.converged++
		case deadUsers[u.id]:
			r.deadLettered++
		case !ld.users[i].lastChangeAccepted():
			r.unaccepted++
		default:
			r.lost++
			r.lostIDs = append(r.lostIDs, u.id)
		}
	}
	return r, nil
}

// converged reports whether the user's SCIM record holds Graph's current
// userPrincipalName and email (mail, or the UPN without a mailbox).
func (fk *fakes) converged(u chaosUser) bool {
	g, ok := fk.Graph.User(u.id)
	if !ok {
		return false
	}
	rec, ok := fk.SCIM.User(u.scimID)
	if !ok {
		return false
	}
	email := g.Mail
	if email == "" {
		email = g.UserPrincipalName
	}
	work, _ := rec.WorkEmail()
	return rec.UserName == g.UserPrincipalName && work.Value == email
}

func (fk *fakes) convergedCount() int {
	n := 0
	for _, u := range fk.users {
		if fk.converged(u) {
			n++
		}
	}
	return n
}

func (r report) failed() bool { return r.lost > 0 || r.overlaps > 0 }

func (r report) print(out io.Writer) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	row := func(name string, value any) { fmt.Fprintf(tw, "%s\t%v\n", name, value) }
	row("renames in Graph", r.renames)
	row("notifications sent (POSTs, retries included)", r.sent)
	row("notifications accepted (202)", r.accepted)
	row("5xx responses", r.serverErrors)
	row("connection errors", r.connErrors)
	row("other responses (4xx)", r.otherStatus)
	row("users", r.users)
	row("users converged", r.converged)
	row("users dead-lettered, not converged", r.deadLettered)
	row("users whose last change was never accepted", r.unaccepted)
	row("users lost", r.lost)
	row("PATCHes sent", r.patches)
	row("PATCH overlaps", r.overlaps)
	row("SCIM requests rejected by the 503 window", r.gateRejected)
	row("unexpected bridge exits", r.unexpectedExits)
	row("claims reclaimed after their lease lapsed", r.reclaimed)
	row("processes not stopped cleanly by SIGTERM", r.uncleanStops)
	row("queue drained", r.drained)
	total := 0
	for _, n := range r.deadLetters {
		total += n
	}
	row("dead letters", total)
	reasons := make([]string, 0, len(r.deadLetters))
	for reason := range r.deadLetters {
		reasons = append(reasons, reason)
	}
	slices.Sort(reasons)
	for _, reason := range reasons {
		row("  "+reason, r.deadLetters[reason])
	}
	_ = tw.Flush()

	if len(r.lostIDs) > 0 {
		fmt.Fprintf(out, "\nlost users: %s\n", strings.Join(r.lostIDs, ", "))
	}
	verdict := "PASS: every user converged or was dead-lettered, and no PATCHes overlapped"
	if r.failed() {
		verdict = "FAIL: users were lost or PATCHes overlapped"
	}
	fmt.Fprintf(out, "\n%s\n", verdict)
}
