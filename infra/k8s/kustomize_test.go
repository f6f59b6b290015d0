// Package k8s_test renders the Kubernetes manifests with the kustomize Go
// API and checks them against the bridge itself. The checks cover the
// environment variables it reads, the roles of `serve`, the Redis stream
// and consumer group KEDA watches, and where secrets come from.
package k8s_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/entrabridge/entrabridge/internal/config"
)

const (
	receiverName = "entrabridge-receiver"
	workerName   = "entrabridge-worker"
	// secretName is the Secret the manifests reference but never create.
	secretName = "entrabridge"
	// schedulerGroup is the consumer group the worker's scheduler reads the
	// inbox stream with (internal/redisstore/keys.go).
	schedulerGroup = "scheduler"
	// baseDir and workloadIdentityOverlay are the base and the AKS example,
	// relative to this package.
	baseDir                 = "base"
	workloadIdentityOverlay = "examples/aks-workload-identity"
)

// TestBaseRenders checks that the base builds and contains every object
// the deployment needs.
func TestBaseRenders(t *testing.T) {
	objs := render(t, baseDir)

	want := []struct{ kind, name string }{
		{"Deployment", receiverName},
		{"Deployment", workerName},
		{"Service", receiverName},
		{"ServiceAccount", receiverName},
		{"ServiceAccount", workerName},
		{"PodDisruptionBudget", receiverName},
		{"PodDisruptionBudget", workerName},
		{"NetworkPolicy", "entrabridge"},
		{"NetworkPolicy", "entrabridge-receiver-ingress"},
		{"ScaledObject", workerName},
		{"TriggerAuthentication", "entrabridge-redis"},
	}
	for _, w := range want {
		t.Run(w.kind+"/"+w.name, func(t *testing.T) {
			if _, ok := find(objs, w.kind, w.name); !ok {
				t.Errorf("got no %s %q in the rendered base, want one", w.kind, w.name)
			}
		})
	}
	if n := len(ofKind(objs, "ConfigMap")); n != 1 {
		t.Errorf("got %d ConfigMaps, want 1", n)
	}
}

// TestEnvNamesAreKnown checks that every variable a container receives,
// directly or through a ConfigMap, is one the bridge reads, so that a typo
// cannot silently leave a setting at its default.
func TestEnvNamesAreKnown(t *testing.T) {
	for _, tc := range renderings(t) {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range deployments(t, tc.objs) {
				for _, c := range d.Spec.Template.Spec.Containers {
					for _, name := range envNames(t, tc.objs, c) {
						if !config.Known(name) {
							t.Errorf("%s container %s: variable %s is not in config.Variables",
								d.Metadata.Name, c.Name, name)
						}
					}
				}
			}
		})
	}
}

// TestConfigMapLoads checks that the non-secret settings parse: the
// ConfigMap plus placeholder secrets must pass config.Load.
func TestConfigMapLoads(t *testing.T) {
	for _, tc := range renderings(t) {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range deployments(t, tc.objs) {
				env := containerEnv(t, tc.objs, d.container(t))
				if _, err := config.Load(env); err != nil {
					t.Errorf("%s: config.Load of the rendered environment: %v", d.Metadata.Name, err)
				}
			}
		})
	}
}

// TestDeploymentRoles checks that each Deployment runs `serve` with its
// own roles only.
func TestDeploymentRoles(t *testing.T) {
	objs := render(t, baseDir)
	tests := []struct {
		deployment string
		want       []string
	}{
		{receiverName, []string{"receiver"}},
		{workerName, []string{"worker", "subscription"}},
	}
	for _, tc := range tests {
		t.Run(tc.deployment, func(t *testing.T) {
			c := deployment(t, objs, tc.deployment).container(t)
			if len(c.Args) == 0 || c.Args[0] != "serve" {
				t.Fatalf("got args %q, want `serve --roles ...`", c.Args)
			}
			got, err := rolesOf(c.Args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got roles %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNoSecretValuesInlined checks that no secret is in the manifests:
// no Secret object, every secret variable read through secretKeyRef from
// the Secret "entrabridge", and none in a ConfigMap.
func TestNoSecretValuesInlined(t *testing.T) {
	for _, tc := range renderings(t) {
		t.Run(tc.name, func(t *testing.T) {
			if secrets := ofKind(tc.objs, "Secret"); len(secrets) > 0 {
				t.Errorf("got %d Secret objects, want none: the Secret is created outside the manifests",
					len(secrets))
			}
			for _, cm := range ofKind(tc.objs, "ConfigMap") {
				for key := range configMapData(t, cm) {
					if isSecret(key) {
						t.Errorf("ConfigMap %s contains secret variable %s, want it in the Secret %q",
							cm.Metadata.Name, key, secretName)
					}
				}
			}
			for _, d := range deployments(t, tc.objs) {
				for _, c := range d.Spec.Template.Spec.Containers {
					checkSecretEnv(t, d.Metadata.Name, c)
				}
			}
			for _, ta := range ofKind(tc.objs, "TriggerAuthentication") {
				var auth triggerAuthentication
				decode(t, ta, &auth)
				for _, ref := range auth.Spec.SecretTargetRef {
					if ref.Name != secretName {
						t.Errorf("TriggerAuthentication %s reads Secret %q, want %q",
							ta.Metadata.Name, ref.Name, secretName)
					}
				}
			}
		})
	}
}

func checkSecretEnv(t *testing.T, deploymentName string, c container) {
	t.Helper()
	for _, e := range c.Env {
		if !isSecret(e.Name) {
			continue
		}
		if e.Value != "" {
			t.Errorf("%s: %s has an inline value, want a secretKeyRef", deploymentName, e.Name)
			continue
		}
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: %s is not read from a Secret, want a secretKeyRef", deploymentName, e.Name)
			continue
		}
		if got := e.ValueFrom.SecretKeyRef.Name; got != secretName {
			t.Errorf("%s: %s is read from Secret %q, want %q", deploymentName, e.Name, got, secretName)
		}
	}
}

// TestRoleSecrets checks that each role receives only the secrets it
// uses, so the internet-facing receiver holds no Graph or SCIM credential.
func TestRoleSecrets(t *testing.T) {
	objs := render(t, baseDir)
	tests := []struct {
		deployment string
		want       []string
	}{
		{receiverName, []string{"GRAPH_CLIENT_STATE", "GRAPH_CLIENT_STATE_PREVIOUS", "REDIS_URL"}},
		{workerName, []string{"ATLASSIAN_SCIM_TOKEN", "AZURE_CLIENT_SECRET", "GRAPH_CLIENT_STATE", "REDIS_URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.deployment, func(t *testing.T) {
			var got []string
			for _, e := range deployment(t, objs, tc.deployment).container(t).Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					got = append(got, e.Name)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got secrets %q, want %q", got, tc.want)
			}
		})
	}
}

// TestScaledObjectTargetsWorker checks that KEDA scales the worker
// Deployment on the scheduler group of the inbox stream the bridge writes.
func TestScaledObjectTargetsWorker(t *testing.T) {
	for _, tc := range renderings(t) {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := find(tc.objs, "ScaledObject", workerName)
			if !ok {
				t.Fatalf("got no ScaledObject %q", workerName)
			}
			var so scaledObject
			decode(t, o, &so)

			ref := so.Spec.ScaleTargetRef
			if ref.Name != workerName || (ref.Kind != "" && ref.Kind != "Deployment") {
				t.Errorf("got scaleTargetRef %s %q, want Deployment %q", ref.Kind, ref.Name, workerName)
			}
			if len(so.Spec.Triggers) != 1 {
				t.Fatalf("got %d triggers, want 1", len(so.Spec.Triggers))
			}
			checkStreamTrigger(t, tc.objs, so.Spec.Triggers[0])
		})
	}
}

func checkStreamTrigger(t *testing.T, objs []object, tr trigger) {
	t.Helper()
	if tr.Type != "redis-streams" {
		t.Errorf("got trigger type %q, want redis-streams", tr.Type)
	}
	prefix := setting(t, objs, deployment(t, objs, workerName).container(t), "REDIS_KEY_PREFIX")
	if want := "{" + prefix + "}:inbox:v2"; tr.Metadata["stream"] != want {
		t.Errorf("got stream %q, want %q (REDIS_KEY_PREFIX %q)", tr.Metadata["stream"], want, prefix)
	}
	if got := tr.Metadata["consumerGroup"]; got != schedulerGroup {
		t.Errorf("got consumerGroup %q, want %q", got, schedulerGroup)
	}
	if _, ok := tr.Metadata["lagCount"]; !ok {
		t.Errorf("got metadata %v, want lagCount set", tr.Metadata)
	}
	for key := range tr.Metadata {
		if strings.Contains(strings.ToLower(key), "password") {
			t.Errorf("trigger metadata has %s, want the password only through authenticationRef", key)
		}
	}
	if tr.AuthenticationRef == nil {
		t.Fatal("got no authenticationRef, want the TriggerAuthentication with the Redis password")
	}
	if _, ok := find(objs, "TriggerAuthentication", tr.AuthenticationRef.Name); !ok {
		t.Errorf("authenticationRef names TriggerAuthentication %q, which is not rendered",
			tr.AuthenticationRef.Name)
	}
}

// TestProbes checks that every role's probes hit the health endpoints on
// the port the bridge listens on (LISTEN_ADDR).
func TestProbes(t *testing.T) {
	objs := render(t, baseDir)
	for _, name := range []string{receiverName, workerName} {
		t.Run(name, func(t *testing.T) {
			checkProbes(t, objs, deployment(t, objs, name).container(t))
		})
	}
}

func checkProbes(t *testing.T, objs []object, c container) {
	t.Helper()
	_, listenPort, err := net.SplitHostPort(setting(t, objs, c, "LISTEN_ADDR"))
	if err != nil {
		t.Fatalf("LISTEN_ADDR: %v", err)
	}

	tests := []struct {
		name     string
		probe    *probe
		wantPath string
	}{
		{"readiness", c.ReadinessProbe, "/readyz"},
		{"liveness", c.LivenessProbe, "/healthz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.probe == nil || tc.probe.HTTPGet == nil {
				t.Fatal("got no httpGet probe, want one")
			}
			if tc.probe.HTTPGet.Path != tc.wantPath {
				t.Errorf("got path %q, want %q", tc.probe.HTTPGet.Path, tc.wantPath)
			}
			if got := c.portNumber(t, tc.probe.HTTPGet.Port); fmt.Sprint(got) != listenPort {
				t.Errorf("got port %d, want LISTEN_ADDR's %s", got, listenPort)
			}
		})
	}
}

// TestSelectors checks that the Service, the disruption budgets and the
// network policies select the pods they are meant for and no others.
func TestSelectors(t *testing.T) {
	objs := render(t, baseDir)
	receiverPods := deployment(t, objs, receiverName).Spec.Template.Metadata.Labels
	workerPods := deployment(t, objs, workerName).Spec.Template.Metadata.Labels

	tests := []struct {
		kind, name     string
		selects, skips map[string]string
	}{
		{"Service", receiverName, receiverPods, workerPods},
		{"PodDisruptionBudget", receiverName, receiverPods, workerPods},
		{"PodDisruptionBudget", workerName, workerPods, receiverPods},
		{"NetworkPolicy", "entrabridge-receiver-ingress", receiverPods, workerPods},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			o, ok := find(objs, tc.kind, tc.name)
			if !ok {
				t.Fatalf("got no %s %q", tc.kind, tc.name)
			}
			sel := selectorOf(t, o)
			if len(sel) == 0 {
				t.Fatal("got an empty selector, want one that names the role")
			}
			if !matches(sel, tc.selects) {
				t.Errorf("selector %v does not match pod labels %v", sel, tc.selects)
			}
			if matches(sel, tc.skips) {
				t.Errorf("selector %v also matches pod labels %v", sel, tc.skips)
			}
		})
	}

	t.Run("NetworkPolicy/entrabridge", func(t *testing.T) {
		o, _ := find(objs, "NetworkPolicy", "entrabridge")
		sel := selectorOf(t, o)
		if !matches(sel, receiverPods) || !matches(sel, workerPods) {
			t.Errorf("selector %v, want it to match receiver %v and worker %v", sel, receiverPods, workerPods)
		}
	})
}

// TestReceiverIngressPort checks that the ingress policy opens the
// receiver's container port and nothing else.
func TestReceiverIngressPort(t *testing.T) {
	objs := render(t, baseDir)
	c := deployment(t, objs, receiverName).container(t)
	o, ok := find(objs, "NetworkPolicy", "entrabridge-receiver-ingress")
	if !ok {
		t.Fatal("got no NetworkPolicy entrabridge-receiver-ingress")
	}
	var np networkPolicy
	decode(t, o, &np)

	var got []int
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 {
			t.Errorf("got an ingress rule without ports, want port %d only", c.portNumber(t, "http"))
		}
		for _, p := range rule.Ports {
			got = append(got, c.portNumber(t, p.Port))
		}
	}
	if want := []int{c.portNumber(t, "http")}; !slices.Equal(got, want) {
		t.Errorf("got ingress ports %v, want %v", got, want)
	}
}

// TestSecurityContext checks that every pod runs as non-root with a
// read-only root file system and no capabilities.
func TestSecurityContext(t *testing.T) {
	objs := render(t, baseDir)
	for _, d := range deployments(t, objs) {
		t.Run(d.Metadata.Name, func(t *testing.T) {
			pod := d.Spec.Template.Spec
			if !isTrue(pod.SecurityContext.RunAsNonRoot) {
				t.Error("got runAsNonRoot unset or false, want true")
			}
			for _, c := range pod.Containers {
				sc := c.SecurityContext
				if !isTrue(sc.ReadOnlyRootFilesystem) {
					t.Errorf("container %s: got readOnlyRootFilesystem unset or false, want true", c.Name)
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					t.Errorf("container %s: got allowPrivilegeEscalation unset or true, want false", c.Name)
				}
				if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
					t.Errorf("container %s: got capabilities.drop %q, want [ALL]", c.Name, sc.Capabilities.Drop)
				}
				if c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
					t.Errorf("container %s: got resources %+v, want memory requests and limits", c.Name, c.Resources)
				}
			}
		})
	}
}

// TestWorkloadIdentityOverlay checks the AKS example: only the worker gets
// the managed identity, and the overlay keeps the base's references.
func TestWorkloadIdentityOverlay(t *testing.T) {
	objs := render(t, workloadIdentityOverlay)

	sa, ok := find(objs, "ServiceAccount", workerName)
	if !ok {
		t.Fatalf("got no ServiceAccount %q", workerName)
	}
	if sa.Metadata.Annotations["azure.workload.identity/client-id"] == "" {
		t.Errorf("worker ServiceAccount annotations %v, want azure.workload.identity/client-id",
			sa.Metadata.Annotations)
	}

	const useLabel = "azure.workload.identity/use"
	if got := deployment(t, objs, workerName).Spec.Template.Metadata.Labels[useLabel]; got != "true" {
		t.Errorf("worker pod label %s = %q, want \"true\"", useLabel, got)
	}
	if got, ok := deployment(t, objs, receiverName).Spec.Template.Metadata.Labels[useLabel]; ok {
		t.Errorf("receiver pod label %s = %q, want no label: the receiver needs no Azure identity", useLabel, got)
	}
	for _, o := range objs {
		if o.Metadata.Namespace != "entrabridge" {
			t.Errorf("%s %s: got namespace %q, want entrabridge", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
	}
}

// TestNamePrefixKeepsReferences checks that an overlay's namePrefix also
// renames the references kustomize cannot know by itself: the
// ScaledObject's target and its TriggerAuthentication.
func TestNamePrefixKeepsReferences(t *testing.T) {
	// Kustomize takes no absolute path as a base, so the base is copied
	// into an in-memory file system next to the overlay.
	fs := filesys.MakeFsInMemory()
	entries, err := os.ReadDir(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(baseDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.WriteFile("/base/"+e.Name(), data); err != nil {
			t.Fatal(err)
		}
	}
	overlay := "namePrefix: prod-\nresources:\n  - ../base\n"
	if err := fs.WriteFile("/overlay/kustomization.yaml", []byte(overlay)); err != nil {
		t.Fatal(err)
	}
	objs := renderFS(t, fs, "/overlay")

	o, ok := find(objs, "ScaledObject", "prod-"+workerName)
	if !ok {
		t.Fatalf("got no ScaledObject %q", "prod-"+workerName)
	}
	var so scaledObject
	decode(t, o, &so)
	if got, want := so.Spec.ScaleTargetRef.Name, "prod-"+workerName; got != want {
		t.Errorf("got scaleTargetRef %q, want %q", got, want)
	}
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].AuthenticationRef == nil {
		t.Fatalf("got triggers %+v, want one with an authenticationRef", so.Spec.Triggers)
	}
	if got, want := so.Spec.Triggers[0].AuthenticationRef.Name, "prod-entrabridge-redis"; got != want {
		t.Errorf("got authenticationRef %q, want %q", got, want)
	}

	// The Secret is created outside the manifests, so its name must stay.
	for _, name := range []string{"prod-" + receiverName, "prod-" + workerName} {
		for _, e := range deployment(t, objs, name).container(t).Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name != secretName {
				t.Errorf("%s: %s reads Secret %q, want %q", name, e.Name, e.ValueFrom.SecretKeyRef.Name, secretName)
			}
		}
	}
}

// rendering is one kustomization's output.
type rendering struct {
	name string
	objs []object
}

// renderings renders the base and the example overlay, for checks that
// every deployable variant must pass.
func renderings(t *testing.T) []rendering {
	t.Helper()
	return []rendering{
		{"base", render(t, baseDir)},
		{"aks-workload-identity", render(t, workloadIdentityOverlay)},
	}
}

// render runs kustomize on dir, relative to this package, and decodes
// every resulting object.
func render(t *testing.T, dir string) []object {
	t.Helper()
	return renderFS(t, filesys.MakeFsOnDisk(), dir)
}

func renderFS(t *testing.T, fs filesys.FileSystem, dir string) []object {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []object
	for _, r := range m.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("encode %s: %v", r.CurId(), err)
		}
		var o object
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("decode %s: %v", r.CurId(), err)
		}
		o.raw = raw
		objs = append(objs, o)
	}
	return objs
}

func find(objs []object, kind, name string) (object, bool) {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o, true
		}
	}
	return object{}, false
}

func ofKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func decode(t *testing.T, o object, into any) {
	t.Helper()
	if err := json.Unmarshal(o.raw, into); err != nil {
		t.Fatalf("decode %s %s: %v", o.Kind, o.Metadata.Name, err)
	}
}

func deployments(t *testing.T, objs []object) []deploymentObject {
	t.Helper()
	var out []deploymentObject
	for _, o := range ofKind(objs, "Deployment") {
		var d deploymentObject
		decode(t, o, &d)
		out = append(out, d)
	}
	if len(out) == 0 {
		t.Fatal("got no Deployments")
	}
	return out
}

func deployment(t *testing.T, objs []object, name string) deploymentObject {
	t.Helper()
	o, ok := find(objs, "Deployment", name)
	if !ok {
		t.Fatalf("got no Deployment %q", name)
	}
	var d deploymentObject
	decode(t, o, &d)
	return d
}

func configMapData(t *testing.T, o object) map[string]string {
	t.Helper()
	var cm struct {
		Data map[string]string `json:"data"`
	}
	decode(t, o, &cm)
	return cm.Data
}

// envNames returns the names of the variables c receives, with the keys
// of the ConfigMaps it loads whole. It fails the test for an envFrom it
// cannot list, because such variables would escape the checks.
func envNames(t *testing.T, objs []object, c container) []string {
	t.Helper()
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	for _, src := range c.EnvFrom {
		if src.Prefix != "" {
			t.Errorf("container %s: envFrom prefix %q renames variables, want none", c.Name, src.Prefix)
		}
		if src.ConfigMapRef == nil {
			t.Errorf("container %s: envFrom without configMapRef, want secrets read one by one with secretKeyRef",
				c.Name)
			continue
		}
		o, ok := find(objs, "ConfigMap", src.ConfigMapRef.Name)
		if !ok {
			t.Errorf("container %s: envFrom names ConfigMap %q, which is not rendered", c.Name, src.ConfigMapRef.Name)
			continue
		}
		for key := range configMapData(t, o) {
			names = append(names, key)
		}
	}
	return names
}

// containerEnv returns the environment c would see, with a placeholder
// for every value read from a Secret. Like Kubernetes, env entries win
// over envFrom.
func containerEnv(t *testing.T, objs []object, c container) map[string]string {
	t.Helper()
	env := make(map[string]string)
	for _, src := range c.EnvFrom {
		if src.ConfigMapRef == nil {
			continue
		}
		if o, ok := find(objs, "ConfigMap", src.ConfigMapRef.Name); ok {
			for k, v := range configMapData(t, o) {
				env[k] = v
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = secretPlaceholder(e.Name)
		default:
			env[e.Name] = e.Value
		}
	}
	return env
}

func secretPlaceholder(name string) string {
	if name == "REDIS_URL" {
		return "redis://redis:6379/0"
	}
	return "placeholder"
}

// setting returns the value of a non-secret variable in c's environment,
// or its default when the manifests leave it out.
func setting(t *testing.T, objs []object, c container, name string) string {
	t.Helper()
	if v := containerEnv(t, objs, c)[name]; v != "" {
		return v
	}
	for _, v := range config.Variables {
		if v.Name == name {
			return v.Default
		}
	}
	t.Fatalf("%s is not in config.Variables", name)
	return ""
}

func isSecret(name string) bool {
	for _, v := range config.Variables {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

// rolesOf returns the value of --roles in args, split at commas.
func rolesOf(args []string) ([]string, error) {
	for i, a := range args {
		var value string
		switch {
		case a == "--roles" && i+1 < len(args):
			value = args[i+1]
		case strings.HasPrefix(a, "--roles="):
			value = strings.TrimPrefix(a, "--roles=")
		default:
			continue
		}
		return strings.Split(value, ","), nil
	}
	return nil, fmt.Errorf("args %q have no --roles: serve would run every role", args)
}

func selectorOf(t *testing.T, o object) map[string]string {
	t.Helper()
	var s struct {
		Spec struct {
			// Service
			Selector json.RawMessage `json:"selector"`
			// NetworkPolicy
			PodSelector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"podSelector"`
		} `json:"spec"`
	}
	decode(t, o, &s)
	if o.Kind == "NetworkPolicy" {
		return s.Spec.PodSelector.MatchLabels
	}
	if o.Kind == "Service" {
		var labels map[string]string
		if err := json.Unmarshal(s.Spec.Selector, &labels); err != nil {
			t.Fatalf("decode Service selector: %v", err)
		}
		return labels
	}
	var ls struct {
		MatchLabels map[string]string `json:"matchLabels"`
	}
	if err := json.Unmarshal(s.Spec.Selector, &ls); err != nil {
		t.Fatalf("decode %s selector: %v", o.Kind, err)
	}
	return ls.MatchLabels
}

// matches reports whether every selector label is among labels.
func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

// object is any rendered Kubernetes object, with its JSON for decoding
// into a kind-specific type.
type object struct {
	Kind     string     `json:"kind"`
	Metadata objectMeta `json:"metadata"`
	raw      []byte
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// The types below contain only the fields the tests read.

type deploymentObject struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Template struct {
			Metadata objectMeta `json:"metadata"`
			Spec     podSpec    `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// container returns the Deployment's only container.
func (d deploymentObject) container(t *testing.T) container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", d.Metadata.Name, len(cs))
	}
	return cs[0]
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `json:"runAsNonRoot"`
	} `json:"securityContext"`
	Containers []container `json:"containers"`
}

type container struct {
	Name    string          `json:"name"`
	Args    []string        `json:"args"`
	Env     []envVar        `json:"env"`
	EnvFrom []envFromSource `json:"envFrom"`
	Ports   []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	ReadinessProbe  *probe `json:"readinessProbe"`
	LivenessProbe   *probe `json:"livenessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `json:"drop"`
		} `json:"capabilities"`
	} `json:"securityContext"`
	Resources struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
}

// portNumber resolves a Kubernetes port reference, a number or the name
// of one of c's ports.
func (c container) portNumber(t *testing.T, ref any) int {
	t.Helper()
	switch v := ref.(type) {
	case float64:
		return int(v)
	case string:
		for _, p := range c.Ports {
			if p.Name == v {
				return p.ContainerPort
			}
		}
		t.Fatalf("container %s has no port named %q", c.Name, v)
	}
	t.Fatalf("port reference %v (%T) is neither a number nor a name", ref, ref)
	return 0
}

type envVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"secretKeyRef"`
	} `json:"valueFrom"`
}

type envFromSource struct {
	Prefix       string `json:"prefix"`
	ConfigMapRef *struct {
		Name string `json:"name"`
	} `json:"configMapRef"`
}

type probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		// Port is a number or a port name.
		Port any `json:"port"`
	} `json:"httpGet"`
}

type networkPolicy struct {
	Spec struct {
		Ingress []struct {
			Ports []struct {
				Port any `json:"port"`
			} `json:"ports"`
		} `json:"ingress"`
	} `json:"spec"`
}

type scaledObject struct {
	Spec struct {
		ScaleTargetRef struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"scaleTargetRef"`
		Triggers []trigger `json:"triggers"`
	} `json:"spec"`
}

type trigger struct {
	Type              string            `json:"type"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
	} `json:"authenticationRef"`
}

type triggerAuthentication struct {
	Spec struct {
		SecretTargetRef []struct {
			Name string `json:"name"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}
