package crosscheck

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/models"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// bindingAPIVersion is ORT_API_VERSION in the onnxruntime_c_api.h that onnxruntime_go v1.27.0 ships:
// the library must implement at least this C API (ONNX Runtime 1.24 or newer).
const bindingAPIVersion = 24

var (
	ortOnce sync.Once
	ortErr  error
)

// initORT loads ONNX Runtime once, or skips the test (fails it under CI) when its library is not installed.
func initORT(t *testing.T) {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		if ortErr = ort.InitializeEnvironment(ort.WithLogLevelError()); ortErr != nil {
			return
		}
		v := ort.GetVersion()
		parts := strings.Split(v, ".")
		minor := -1
		if len(parts) >= 2 {
			minor, _ = strconv.Atoi(parts[1])
		}
		if parts[0] != "1" || minor < bindingAPIVersion {
			ortErr = fmt.Errorf("ONNX Runtime %s implements C API %d, older than the %d onnxruntime_go v1.27.0 needs: run scripts/setup-ort.sh", v, minor, bindingAPIVersion)
		}
	})
	if ortErr != nil {
		t.Fatal(ortErr)
	}
}

// loadMNIST returns the MNIST test set, or skips the test (fails it under CI) when `make data` has not
// been run.
func loadMNIST(t *testing.T) (train, test *models.Dataset) {
	t.Helper()
	dir := testenv.RequireFile(t, testenv.RepoPath(t, "data/mnist"), "run `make data`")
	train, test, err := models.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

const chunk = 1000 // images per run, to bound memory

// ortLogits runs the model file in ONNX Runtime over all of ds and returns the outputs, [N, classes].
func ortLogits(t *testing.T, path string, ds *models.Dataset, classes int) []float32 {
	t.Helper()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(2); err != nil {
		t.Fatal(err)
	}
	in, out, err := ort.GetInputOutputInfo(path)
	if err != nil {
		t.Fatalf("ONNX Runtime cannot read %s: %v", path, err)
	}
	sess, err := ort.NewDynamicAdvancedSession(path, []string{in[0].Name}, []string{out[0].Name}, opts)
	if err != nil {
		t.Fatalf("ONNX Runtime cannot load %s: %v", path, err)
	}
	defer sess.Destroy()
	logits := make([]float32, 0, ds.N*classes)
	for from := 0; from < ds.N; from += chunk {
		to := min(from+chunk, ds.N)
		x := ds.Tensor(from, to)
		// The model's own input layout: [N 1 H W], or [N H W 1] for a Keras (NHWC) model; one channel, so
		// the same data.
		shape := append(ort.NewShape(int64(to-from)), in[0].Dimensions[1:]...)
		xt, err := ort.NewTensor(shape, x.Float32s())
		if err != nil {
			t.Fatal(err)
		}
		yt, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(to-from), int64(classes)))
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
			t.Fatalf("ONNX Runtime run on images %d-%d: %v", from, to, err)
		}
		logits = append(logits, yt.GetData()...)
		xt.Destroy()
		yt.Destroy()
	}
	return logits
}

// onnxrunLogits runs the model in onnxrun's runtime over all of ds.
func onnxrunLogits(t *testing.T, path string, ds *models.Dataset) []float32 {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runtime.Compile(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess := plan.NewSession()
	defer sess.Close()
	_, dims, _ := onnx.ValueInfoShape(m.Proto.GetGraph().GetInput()[0])
	var logits []float32
	for from := 0; from < ds.N; from += chunk {
		x := ds.Tensor(from, min(from+chunk, ds.N))
		shape := ops.Shape{x.Shape()[0]} // the model's layout, NCHW or NHWC (one channel: the same data)
		for _, d := range dims[1:] {
			shape = append(shape, int(d.Value))
		}
		out, err := sess.Run(context.Background(), []*ops.Tensor{x.View(shape)})
		if err != nil {
			t.Fatal(err)
		}
		logits = append(logits, out[0].Float32s()...)
	}
	return logits
}

// compare checks that two sets of outputs pick the same class for every image and agree to tol, and
// returns the accuracy of the first.
func compare(t *testing.T, what string, got, want []float32, labels []uint8, classes int, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) || len(got) != len(labels)*classes {
		t.Fatalf("%s: %d and %d outputs for %d images", what, len(got), len(want), len(labels))
	}
	worst, differ, correct := 0.0, 0, 0
	for i := range labels {
		g, w := got[i*classes:(i+1)*classes], want[i*classes:(i+1)*classes]
		pg, pw := argmax(g), argmax(w)
		if pg != pw {
			differ++
			if differ <= 5 {
				t.Errorf("%s: image %d: class %d, the reference says %d (scores %v vs %v)", what, i, pg, pw, g, w)
			}
		}
		if pg == int(labels[i]) {
			correct++
		}
		for j := range g {
			worst = max(worst, math.Abs(float64(g[j]-w[j]))/(1+math.Abs(float64(w[j]))))
		}
	}
	if differ > 0 {
		t.Errorf("%s: %d of %d predictions differ", what, differ, len(labels))
	}
	if worst > tol {
		t.Errorf("%s: outputs differ by up to %.3g (relative), more than %g", what, worst, tol)
	}
	acc := float64(correct) / float64(len(labels))
	t.Logf("%s: %d images, same predictions, largest difference %.2g, accuracy %.2f%%", what, len(labels), worst, 100*acc)
	return acc
}

func argmax(v []float32) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}

// TestCommittedLeNetAgreesWithONNXRuntime runs the LeNet committed in models/lenet on all 10,000 MNIST test
// digits in ONNX Runtime and in onnxrun: same predictions, logits within 1e-4.
func TestCommittedLeNetAgreesWithONNXRuntime(t *testing.T) {
	initORT(t)
	_, test := loadMNIST(t)
	path := testenv.RepoPath(t, "models/lenet/lenet.onnx")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the committed model is missing: %v", err)
	}
	want := ortLogits(t, path, test, 10)
	got := onnxrunLogits(t, path, test)
	if acc := compare(t, "onnxrun vs ONNX Runtime, models/lenet/lenet.onnx", got, want, test.Labels, 10, 1e-4); acc < 0.99 {
		t.Errorf("the committed LeNet has %.2f%% test accuracy, below 99%%", 100*acc)
	}
}

// TestFreshExportAgreesWithONNXRuntime trains the seed's LeNet for one short epoch, exports it at several
// opsets and checks that ONNX Runtime makes the trainer's predictions on all 10,000 test digits.
func TestFreshExportAgreesWithONNXRuntime(t *testing.T) {
	initORT(t)
	train, test := loadMNIST(t)
	net, err := models.NewLeNet(models.SeedLeNet())
	if err != nil {
		t.Fatal(err)
	}
	net.Init(7)
	opt, _ := models.NewOptimizer("adam", 0.002)
	tr, err := models.NewTrainer(net, models.Config{Epochs: 1, BatchSize: 32, Seed: 7, Threads: 2, Optimizer: opt})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(train.Subset(10000), nil); err != nil {
		t.Fatal(err)
	}
	var trainer []float32
	for from := 0; from < test.N; from += chunk {
		y, err := net.Predict(test.Tensor(from, min(from+chunk, test.N)))
		if err != nil {
			t.Fatal(err)
		}
		trainer = append(trainer, y.Float32s()...)
	}
	dir := t.TempDir()
	for _, opset := range []int{9, 13, 17, 21} {
		path := filepath.Join(dir, fmt.Sprintf("lenet_opset%d.onnx", opset))
		m, err := net.Export(models.ExportOptions{Opset: opset})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		acc := compare(t, fmt.Sprintf("ONNX Runtime vs the trainer, opset %d", opset), ortLogits(t, path, test, 10), trainer, test.Labels, 10, 1e-4)
		if acc < 0.9 {
			t.Errorf("one epoch on 10000 images gave %.2f%% test accuracy, want at least 90%%", 100*acc)
		}
	}
}
