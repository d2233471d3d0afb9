package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestKServeDocNamesExist checks that every serve flag docs/kserve.md names is one of `onnxrun serve`'s flags,
// and every onnxrun_ metric it names is one the server's /metrics exposes, so that the deployment page
// cannot drift from the command (issue 18 item 7).
func TestKServeDocNamesExist(t *testing.T) {
	doc, err := os.ReadFile(testenv.RepoPath(t, "docs/kserve.md"))
	if err != nil {
		t.Fatal(err)
	}
	flags, metricNames := docFlagsAndMetrics(string(doc))
	// The page's core advice: if the scan finds none of these, it is the scan that broke, not the page.
	for _, want := range []string{"model-dir", "model-name", "grpc-port", "health-port", "drain-delay", "shutdown-timeout", "memory-limit", "tls-cert"} {
		if !slices.Contains(flags, want) {
			t.Errorf("docs/kserve.md: the scan found no --%s (found %v)", want, flags)
		}
	}
	if !slices.Contains(metricNames, "onnxrun_queue_size") {
		t.Errorf("docs/kserve.md: the scan found no onnxrun_queue_size (found %v)", metricNames)
	}

	serveFlags, _, _ := newFlagSet(findCommand("serve"))
	for _, name := range flags {
		if serveFlags.Lookup(name) == nil {
			t.Errorf("docs/kserve.md names --%s, which `onnxrun serve` does not have (another tool's flag needs its command word on the same line, see docOtherCommands)", name)
		}
	}

	exposed := exposedMetrics(t)
	for _, name := range metricNames {
		if !exposed[name] {
			t.Errorf("docs/kserve.md names %s, which /metrics does not expose", name)
		}
	}
}

// docOtherCommands are the commands besides onnxrun whose flags docs/kserve.md shows, in shell lines or
// inline code; a --flag after one of them, on the same line and in the same code span, is theirs.
var docOtherCommands = map[string]bool{
	"podman": true, "buildah": true, "docker": true, "kubectl": true, "helm": true, "curl": true, "jq": true,
	"go": true, "make": true, "grpc-health-probe": true,
}

var docWord = regexp.MustCompile(`[A-Za-z0-9_./-]+`)
var docMetric = regexp.MustCompile(`\bonnxrun_[a-z0-9_]*[a-z0-9]`)

// docFlagsAndMetrics returns the serve flags (without their dashes) and the onnxrun_ metric names a
// Markdown page mentions, each once, in order of first mention. A --flag is onnxrun's unless another
// command (docOtherCommands) comes before it on its line with no onnxrun, backtick or pipe in between: so
// YAML args lists, prose, inline code and `onnxrun serve ...` lines are all checked.
func docFlagsAndMetrics(markdown string) (flags, metricNames []string) {
	seen := map[string]bool{}
	add := func(list *[]string, name string) {
		if !seen[name] {
			seen[name] = true
			*list = append(*list, name)
		}
	}
	for _, line := range strings.Split(markdown, "\n") {
		for _, m := range docMetric.FindAllString(line, -1) {
			add(&metricNames, m)
		}
		// Each backtick-delimited or pipe-delimited stretch starts with no command.
		for _, stretch := range strings.FieldsFunc(line, func(r rune) bool { return r == '`' || r == '|' }) {
			other := false
			for _, word := range docWord.FindAllString(stretch, -1) {
				switch {
				case strings.HasPrefix(word, "--") && len(word) > 2 && word[2] >= 'a' && word[2] <= 'z': // not a "---" rule
					if !other {
						add(&flags, strings.TrimPrefix(word, "--"))
					}
				case path.Base(word) == "onnxrun":
					other = false
				case docOtherCommands[word]:
					other = true
				}
			}
		}
	}
	return flags, metricNames
}

func TestDocFlagsAndMetrics(t *testing.T) {
	page := "Run `buildah run --isolation chroot CTR /onnxrun serve --model-dir /m` and keep `--drain-delay` short.\n" +
		"```yaml\n        - --max-batch=16   # see onnxrun_batch_size_sum\n```\n" +
		"```sh\ncurl -s --data-binary @x http://h/ | jq '.outputs'\nonnxrun serve a.onnx --print-request d.npy > r.json\n```\n" +
		"    terminationGracePeriodSeconds > --drain-delay + --shutdown-timeout\n" +
		"|---|---|\n---\n| `onnxrun_queue_size` | gauge | make image --jobs | `--queue-size` |\n"
	flags, metricNames := docFlagsAndMetrics(page)
	wantFlags := []string{"model-dir", "drain-delay", "max-batch", "print-request", "shutdown-timeout", "queue-size"}
	if !reflect.DeepEqual(flags, wantFlags) {
		t.Errorf("flags %v, want %v", flags, wantFlags)
	}
	if want := []string{"onnxrun_batch_size_sum", "onnxrun_queue_size"}; !reflect.DeepEqual(metricNames, want) {
		t.Errorf("metric names %v, want %v", metricNames, want)
	}
}

// exposedMetrics starts `onnxrun serve` on the shipped LeNet and returns the metric names its /metrics
// declares: each family of a "# TYPE" line, and for a histogram its _bucket, _sum and _count series.
func exposedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", "0", "--sessions", "1", "-q",
		"lenet=" + testenv.RepoPath(t, "models/lenet/lenet.onnx")}, "listening on ", " ")
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}

	exposed := map[string]bool{}
	scanner := bufio.NewScanner(strings.NewReader(string(body)))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 4 || fields[0] != "#" || fields[1] != "TYPE" {
			continue
		}
		name, kind := fields[2], fields[3]
		exposed[name] = true
		if kind == "histogram" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exposed[name+suffix] = true
			}
		}
	}
	if len(exposed) == 0 {
		t.Fatalf("/metrics declares no metric:\n%s", body)
	}
	return exposed
}
