package plan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// Expected operations are written out instead of built with the scim
// package's helpers, so that a changed helper shows up here too.

func replaceUserName(v string) scim.Operation {
	return scim.Operation{Op: "replace", Path: "userName", Value: v}
}

func replaceWorkEmailValue(v string) scim.Operation {
	return scim.Operation{Op: "replace", Path: `emails[type eq "work"].value`, Value: v}
}

func replaceEmails(v string) scim.Operation {
	return scim.Operation{Op: "replace", Path: "emails",
		Value: []scim.Email{{Value: v, Type: "work", Primary: true}}}
}

// objectID is the Entra object ID of the user in every case.
const objectID = "2b3c1f7a-0000-4000-8000-000000000001"

func entraUser(userPrincipalName, mail string) plan.EntraUser {
	return plan.EntraUser{ID: objectID, UserPrincipalName: userPrincipalName, Mail: mail}
}

func scimUser(userName string, emails ...scim.Email) scim.User {
	return scim.User{ID: "scim-1", UserName: userName, Emails: emails}
}

// workUser returns a SCIM record whose userName is userName and whose only
// email is a primary work email.
func workUser(userName, email string) scim.User {
	return scimUser(userName, scim.Email{Value: email, Type: "work", Primary: true})
}

// guestUPN is the userPrincipalName Entra gives a B2B guest, o'brien@fabrikam.com,
// invited into contoso.onmicrosoft.com.
const guestUPN = "o'brien_fabrikam.com#EXT#@contoso.onmicrosoft.com"

func TestPlan(t *testing.T) {
	tests := []struct {
		name    string
		policy  plan.Policy
		user    plan.EntraUser
		current scim.User
		want    plan.Change
	}{
		{
			name:    "rename of UPN and mail",
			user:    entraUser("alex.smith@contoso.com", "alex.smith@contoso.com"),
			current: workUser("alex.doe@contoso.com", "alex.doe@contoso.com"),
			want: plan.Change{
				UserName: "alex.smith@contoso.com",
				Email:    "alex.smith@contoso.com",
				Operations: []scim.Operation{
					replaceUserName("alex.smith@contoso.com"),
					replaceWorkEmailValue("alex.smith@contoso.com"),
				},
			},
		},
		{
			name:    "type set on an unverified domain's unchanged address",
			policy:  plan.Policy{VerifiedDomains: []string{"contoso.com"}},
			user:    entraUser("alex@legacy.example", "alex@legacy.example"),
			current: scimUser("alex@legacy.example", scim.Email{Value: "alex@legacy.example"}),
			want: plan.Change{
				UserName:   "alex@legacy.example",
				Email:      "alex@legacy.example",
				Operations: []scim.Operation{replaceEmails("alex@legacy.example")},
			},
		},
		{
			name:    "case-only email change on an unverified domain",
			policy:  plan.Policy{VerifiedDomains: []string{"contoso.com"}},
			user:    entraUser("alex@legacy.example", "Alex@Legacy.example"),
			current: workUser("alex@legacy.example", "alex@legacy.example"),
			want: plan.Change{
				UserName:   "alex@legacy.example",
				Email:      "Alex@Legacy.example",
				Operations: []scim.Operation{replaceWorkEmailValue("Alex@Legacy.example")},
			},
		},
		{
			name:    "mail empty uses UPN as email",
			user:    entraUser("svc-build@contoso.com", ""),
			current: workUser("svc-build@contoso.com", "old-build@contoso.com"),
			want: plan.Change{
				UserName:   "svc-build@contoso.com",
				Email:      "svc-build@contoso.com",
				Operations: []scim.Operation{replaceWorkEmailValue("svc-build@contoso.com")},
			},
		},
		{
			// Graph notifies on any property change, displayName included,
			// but the bridge owns only userName and the work email.
			name:    "nothing owned changed",
			user:    entraUser("alex@contoso.com", "alex@contoso.com"),
			current: workUser("alex@contoso.com", "alex@contoso.com"),
			want:    plan.Change{UserName: "alex@contoso.com", Email: "alex@contoso.com"},
		},
		{
			name: "work email among others",
			user: entraUser("alex@contoso.com", "alex.new@contoso.com"),
			current: scim.User{ID: "scim-1", UserName: "alex@contoso.com", Emails: []scim.Email{
				{Value: "alex@home.example", Type: "home", Primary: true},
				{Value: "alex@contoso.com", Type: "work"},
			}},
			want: plan.Change{
				UserName:   "alex@contoso.com",
				Email:      "alex.new@contoso.com",
				Operations: []scim.Operation{replaceWorkEmailValue("alex.new@contoso.com")},
			},
		},
		{
			name: "type-less email replaces emails",
			user: entraUser("alex@contoso.com", "alex.new@contoso.com"),
			current: scim.User{ID: "scim-1", UserName: "alex@contoso.com",
				Emails: []scim.Email{{Value: "alex@contoso.com"}}},
			want: plan.Change{
				UserName:   "alex@contoso.com",
				Email:      "alex.new@contoso.com",
				Operations: []scim.Operation{replaceEmails("alex.new@contoso.com")},
			},
		},
		{
			name:    "no emails at all replaces emails",
			user:    entraUser("alex@contoso.com", "alex@contoso.com"),
			current: scimUser("alex@contoso.com"),
			want: plan.Change{
				UserName:   "alex@contoso.com",
				Email:      "alex@contoso.com",
				Operations: []scim.Operation{replaceEmails("alex@contoso.com")},
			},
		},
		{
			name:    "work type in other case",
			user:    entraUser("alex@contoso.com", "alex.new@contoso.com"),
			current: scimUser("alex@contoso.com", scim.Email{Value: "alex@contoso.com", Type: "Work"}),
			want: plan.Change{
				UserName:   "alex@contoso.com",
				Email:      "alex.new@contoso.com",
				Operations: []scim.Operation{replaceWorkEmailValue("alex.new@contoso.com")},
			},
		},
		{
			name:    "userName from mail",
			policy:  plan.Policy{UserNameSource: plan.FromMail},
			user:    entraUser("asmith@contoso.onmicrosoft.com", "alex.smith@contoso.com"),
			current: workUser("alex.doe@contoso.com", "alex.doe@contoso.com"),
			want: plan.Change{
				UserName: "alex.smith@contoso.com",
				Email:    "alex.smith@contoso.com",
				Operations: []scim.Operation{
					replaceUserName("alex.smith@contoso.com"),
					replaceWorkEmailValue("alex.smith@contoso.com"),
				},
			},
		},
		{
			name:    "userName from mail falls back to UPN",
			policy:  plan.Policy{UserNameSource: plan.FromMail},
			user:    entraUser("svc-build@contoso.com", ""),
			current: workUser("build@contoso.com", "svc-build@contoso.com"),
			want: plan.Change{
				UserName:   "svc-build@contoso.com",
				Email:      "svc-build@contoso.com",
				Operations: []scim.Operation{replaceUserName("svc-build@contoso.com")},
			},
		},
		{
			name:    "userName unchanged",
			policy:  plan.Policy{UserNameSource: plan.Unchanged},
			user:    entraUser("alex.smith@contoso.com", "alex.smith@contoso.com"),
			current: workUser("legacy-key-17", "alex.doe@contoso.com"),
			want: plan.Change{
				UserName:   "legacy-key-17",
				Email:      "alex.smith@contoso.com",
				Operations: []scim.Operation{replaceWorkEmailValue("alex.smith@contoso.com")},
			},
		},
		{
			name:    "userName from UPN explicitly",
			policy:  plan.Policy{UserNameSource: plan.FromUserPrincipalName},
			user:    entraUser("asmith@contoso.com", "alex.smith@contoso.com"),
			current: workUser("alex.doe@contoso.com", "alex.smith@contoso.com"),
			want: plan.Change{
				UserName:   "asmith@contoso.com",
				Email:      "alex.smith@contoso.com",
				Operations: []scim.Operation{replaceUserName("asmith@contoso.com")},
			},
		},
		{
			name:    "userName case change",
			user:    entraUser("Alex@contoso.com", "alex@contoso.com"),
			current: workUser("alex@contoso.com", "alex@contoso.com"),
			want: plan.Change{
				UserName:   "Alex@contoso.com",
				Email:      "alex@contoso.com",
				Operations: []scim.Operation{replaceUserName("Alex@contoso.com")},
			},
		},
		{
			name:    "verified domain allowed",
			policy:  plan.Policy{VerifiedDomains: []string{"fabrikam.com", "contoso.com"}},
			user:    entraUser("alex@contoso.com", "alex@contoso.com"),
			current: workUser("alex@fabrikam.com", "alex@fabrikam.com"),
			want: plan.Change{
				UserName: "alex@contoso.com",
				Email:    "alex@contoso.com",
				Operations: []scim.Operation{
					replaceUserName("alex@contoso.com"),
					replaceWorkEmailValue("alex@contoso.com"),
				},
			},
		},
		{
			name:    "verified domain in other case",
			policy:  plan.Policy{VerifiedDomains: []string{"contoso.com"}},
			user:    entraUser("Alex@CONTOSO.COM", "Alex@Contoso.Com"),
			current: workUser("alex@contoso.com", "alex@contoso.com"),
			want: plan.Change{
				UserName: "Alex@CONTOSO.COM",
				Email:    "Alex@Contoso.Com",
				Operations: []scim.Operation{
					replaceUserName("Alex@CONTOSO.COM"),
					replaceWorkEmailValue("Alex@Contoso.Com"),
				},
			},
		},
		{
			name:    "unchanged email on unverified domain",
			policy:  plan.Policy{VerifiedDomains: []string{"contoso.com"}},
			user:    entraUser("alex.smith@contoso.com", "alex@legacy.example"),
			current: workUser("alex.doe@contoso.com", "alex@legacy.example"),
			want: plan.Change{
				UserName:   "alex.smith@contoso.com",
				Email:      "alex@legacy.example",
				Operations: []scim.Operation{replaceUserName("alex.smith@contoso.com")},
			},
		},
		{
			// RFC 5321 allows @ in a quoted local part, so the domain is
			// what follows the last @.
			name:    "quoted local part with @",
			policy:  plan.Policy{VerifiedDomains: []string{"contoso.com"}},
			user:    entraUser("alex@contoso.com", `"alex@home"@contoso.com`),
			current: workUser("alex@contoso.com", "alex@contoso.com"),
			want: plan.Change{
				UserName:   "alex@contoso.com",
				Email:      `"alex@home"@contoso.com`,
				Operations: []scim.Operation{replaceWorkEmailValue(`"alex@home"@contoso.com`)},
			},
		},
		{
			name:    "guest UPN as userName and email",
			user:    entraUser(guestUPN, ""),
			current: workUser("obrien@fabrikam.com", "obrien@fabrikam.com"),
			want: plan.Change{
				UserName:   guestUPN,
				Email:      guestUPN,
				Operations: []scim.Operation{replaceUserName(guestUPN), replaceWorkEmailValue(guestUPN)},
			},
		},
		{
			name:    "guest UPN domain is after the last @",
			policy:  plan.Policy{VerifiedDomains: []string{"contoso.onmicrosoft.com"}},
			user:    entraUser(guestUPN, ""),
			current: workUser(guestUPN, "obrien@contoso.onmicrosoft.com"),
			want: plan.Change{
				UserName:   guestUPN,
				Email:      guestUPN,
				Operations: []scim.Operation{replaceWorkEmailValue(guestUPN)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Plan(tt.user, tt.current)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanUnverifiedDomain(t *testing.T) {
	tests := []struct {
		name       string
		domains    []string
		user       plan.EntraUser
		current    scim.User
		wantDomain string
	}{
		{
			name:       "new domain not verified",
			domains:    []string{"contoso.com"},
			user:       entraUser("alex.smith@contoso.com", "alex@fabrikam.com"),
			current:    workUser("alex.doe@contoso.com", "alex.doe@contoso.com"),
			wantDomain: "fabrikam.com",
		},
		{
			name:       "subdomain not allowed by parent",
			domains:    []string{"contoso.com"},
			user:       entraUser("alex@eu.contoso.com", "alex@eu.contoso.com"),
			current:    workUser("alex@contoso.com", "alex@contoso.com"),
			wantDomain: "eu.contoso.com",
		},
		{
			name:       "parent not allowed by subdomain",
			domains:    []string{"eu.contoso.com"},
			user:       entraUser("alex@contoso.com", "alex@contoso.com"),
			current:    workUser("alex@eu.contoso.com", "alex@eu.contoso.com"),
			wantDomain: "contoso.com",
		},
		{
			name:       "domain suffix is not a domain",
			domains:    []string{"contoso.com"},
			user:       entraUser("alex@notcontoso.com", "alex@notcontoso.com"),
			current:    workUser("alex@contoso.com", "alex@contoso.com"),
			wantDomain: "notcontoso.com",
		},
		{
			name:       "upper-case domain reported lower-case",
			domains:    []string{"contoso.com"},
			user:       entraUser("alex@contoso.com", "Alex@Fabrikam.COM"),
			current:    workUser("alex@contoso.com", "alex@contoso.com"),
			wantDomain: "fabrikam.com",
		},
		{
			name:       "record without work email",
			domains:    []string{"contoso.com"},
			user:       entraUser("alex@contoso.com", "alex@fabrikam.com"),
			current:    scimUser("alex@contoso.com", scim.Email{Value: "alex@contoso.com"}),
			wantDomain: "fabrikam.com",
		},
		{
			name:       "guest UPN domain before #EXT# does not count",
			domains:    []string{"fabrikam.com"},
			user:       entraUser(guestUPN, ""),
			current:    workUser("obrien@fabrikam.com", "obrien@fabrikam.com"),
			wantDomain: "contoso.onmicrosoft.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := plan.Policy{VerifiedDomains: tt.domains}
			got, err := policy.Plan(tt.user, tt.current)
			if !errors.Is(err, plan.ErrUnverifiedDomain) {
				t.Fatalf("got error %v, want one wrapping ErrUnverifiedDomain", err)
			}
			if !strings.Contains(err.Error(), tt.wantDomain) {
				t.Errorf("error %q does not name domain %q", err, tt.wantDomain)
			}
			if !strings.Contains(err.Error(), "ATLASSIAN_VERIFIED_DOMAINS") {
				t.Errorf("error %q does not name ATLASSIAN_VERIFIED_DOMAINS", err)
			}
			// The userName is held back with the email, so that Atlassian
			// never receives half of a rename.
			if diff := cmp.Diff(plan.Change{}, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanEveryDomainWhenNoneVerified(t *testing.T) {
	tests := []struct {
		name    string
		domains []string
	}{
		{"nil", nil},
		{"empty", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := plan.Policy{VerifiedDomains: tt.domains}
			user := entraUser("alex@fabrikam.com", "alex@fabrikam.com")
			got, err := policy.Plan(user, workUser("alex@contoso.com", "alex@contoso.com"))
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			want := []scim.Operation{
				replaceUserName("alex@fabrikam.com"),
				replaceWorkEmailValue("alex@fabrikam.com"),
			}
			if diff := cmp.Diff(want, got.Operations); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmailOperation(t *testing.T) {
	typed := workUser("alex@contoso.com", "alex@contoso.com")
	typeLess := scimUser("alex@contoso.com", scim.Email{Value: "alex@contoso.com"})
	homeOnly := scim.User{ID: "scim-1", UserName: "alex@contoso.com",
		Emails: []scim.Email{{Value: "alex@home.example", Type: "home", Primary: true}}}

	tests := []struct {
		name      string
		current   scim.User
		alternate bool
		want      scim.Operation
	}{
		{"work email", typed, false, replaceWorkEmailValue("alex.new@contoso.com")},
		{"work email alternate", typed, true, replaceEmails("alex.new@contoso.com")},
		{"type-less email", typeLess, false, replaceEmails("alex.new@contoso.com")},
		{"type-less email alternate", typeLess, true, replaceWorkEmailValue("alex.new@contoso.com")},
		{"home email only", homeOnly, false, replaceEmails("alex.new@contoso.com")},
		{"no emails", scimUser("alex@contoso.com"), false, replaceEmails("alex.new@contoso.com")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plan.EmailOperation(tt.current, "alex.new@contoso.com", tt.alternate)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("operation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEntraUserEmail(t *testing.T) {
	tests := []struct {
		name string
		user plan.EntraUser
		want string
	}{
		{"mail", entraUser("asmith@contoso.com", "alex.smith@contoso.com"), "alex.smith@contoso.com"},
		{"no mailbox", entraUser("asmith@contoso.com", ""), "asmith@contoso.com"},
		{"guest without mail", entraUser(guestUPN, ""), guestUPN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.Email(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
