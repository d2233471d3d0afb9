package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/models"
	"github.com/onnxrun/onnxrun/onnx"
)

// trainHelperEnv makes the test binary, re-run by TestTrainKillAndResume, act as `onnxrun` with the
// arguments in the variable (separated by newlines).
const trainHelperEnv = "ONNXRUN_TEST_TRAIN_ARGS"

// TestMain makes the test binary act as `onnxrun` when TestTrainKillAndResume re-runs it with
// trainHelperEnv set: that child is the process it kills, and it runs no test.
func TestMain(m *testing.M) {
	if args := os.Getenv(trainHelperEnv); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// smokeTrainArgs are the flags of a short real training run: the seed's LeNet on 2,000 of the first 2,500
// MNIST digits, validated on the other 500, tested once on the 10,000 test digits.
func smokeTrainArgs(t *testing.T, epochs string) []string {
	data := testenv.RequireFile(t, testenv.RepoPath(t, "data/mnist"), "run `make data`")
	return []string{"train", "--data", data, "--limit", "2500", "--val-split", "500", "--epochs", epochs, "--batch", "32",
		"--threads", "2", "--seed", "3", "--quiet"}
}

// TestTrainSmokeMNIST is CI's smoke test of the full training command (models/TRAINING.md): one epoch of
// the seed's LeNet on 2,000 MNIST digits through the CLI, exported and loaded back.
func TestTrainSmokeMNIST(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lenet.onnx")
	status, stdout, stderr := runCLI(append(smokeTrainArgs(t, "1"), "--out", out)...)
	if status != 0 {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	var acc float64
	i := strings.Index(stdout, "test accuracy ")
	if i < 0 {
		t.Fatalf("no test accuracy in the output:\n%s", stdout)
	}
	if _, err := fmt.Sscanf(stdout[i:], "test accuracy %f%%", &acc); err != nil {
		t.Fatalf("%v in %q", err, stdout[i:])
	}
	if acc < 60 { // 68.40% with these flags (the run is deterministic); chance is 10%
		t.Errorf("validation accuracy %.2f%% after one epoch on 2,000 digits, want at least 60%%:\n%s", acc, stdout)
	}
	if len(initializers(t, out)) != 10 {
		t.Errorf("the export has %d initializers, want the LeNet's 10", len(initializers(t, out)))
	}
}

// initializers returns a model's weights by name, as raw bytes.
func initializers(t *testing.T, path string) map[string][]byte {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	w := map[string][]byte{}
	for _, init := range m.Proto.GetGraph().GetInitializer() {
		w[init.GetName()] = init.GetRawData()
	}
	return w
}

// TestTrainCheckpointFlags checks the usage errors of the checkpoint flags and a resume that does not
// fit the checkpointed run.
func TestTrainCheckpointFlags(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 100)
	ckpt := filepath.Join(dir, "ckpt")
	args := []string{"train", "--data", dir, "--epochs", "1", "--batch", "20", "--threads", "1", "--quiet", "--out", filepath.Join(dir, "m.onnx"), "--val-split", "20"}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--checkpoint", ckpt, "--checkpoint-every", "0"}, `--checkpoint-every: "0": want a positive number`},
		{[]string{"--checkpoint", ckpt, "--checkpoint-every", "2x"}, `--checkpoint-every: "2x"`},
		{[]string{"--resume", filepath.Join(dir, "none")}, "checkpoint " + filepath.Join(dir, "none", models.CheckpointFile) + ": cannot read it"},
	} {
		status, stdout, stderr := runCLI(append(args, c.extra...)...)
		if status == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: status %d, stderr %q; want an error containing %q\n%s", c.extra, status, stderr, c.want, stdout)
		}
	}
	if status, stdout, stderr := runCLI(append(args, "--checkpoint", ckpt, "--checkpoint-every", "1e")...); status != 0 {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	args[6] = "40" // --batch
	status, _, stderr := runCLI(append(args, "--epochs", "2", "--resume", ckpt)...)
	if want := "the batch size differs: the checkpoint has 20, this run has 40"; status == 0 || !strings.Contains(stderr, want) {
		t.Errorf("resume at another batch size: status %d, stderr %q; want an error containing %q", status, stderr, want)
	}
}

// TestTrainKillAndResume kills a training run with SIGKILL mid-epoch, once it has written a checkpoint,
// resumes it, and expects the exported weights of an uninterrupted run, bit for bit.
func TestTrainKillAndResume(t *testing.T) {
	args := append(smokeTrainArgs(t, "2"), "--dropout", "0.25") // dropout: the dropout generators matter too
	// 2,000 images at batch 32 are 63 steps an epoch: checkpoints every 10 steps all fall mid-epoch.
	killAndResume(t, args, "10")
}

// TestTrainFromKillAndResume does the same with a fine-tune (--from) of the PyTorch LeNet with a new head
// and a frozen first convolution, on synthetic digits, and checks that a resume with another --from model,
// or without --from, is refused with an error naming both.
func TestTrainFromKillAndResume(t *testing.T) {
	srcPath := filepath.Join(testenv.Shared(t, "models", "lenet_torch_opset13"), "model.onnx")
	data := t.TempDir()
	writeSyntheticMNIST(t, data, 1200)
	args := []string{"train", "--from", srcPath, "--num-classes", "10", "--freeze", "/c1/Conv", "--data", data,
		"--val-split", "200", "--epochs", "2", "--batch", "32", "--threads", "2", "--seed", "5", "--quiet"}
	// 1,000 images at batch 32 are 32 steps an epoch: checkpoints every 5 steps fall mid-epoch but the last.
	ckpt := killAndResume(t, args, "5")

	other := filepath.Join(t.TempDir(), "other.onnx")
	raw, err := os.ReadFile(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, append(raw[:len(raw):len(raw)], 0x32, 1, 'x'), 0o644); err != nil { // doc_string "x": the same layers, other bytes
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{slices.Concat([]string{"train", "--from", other}, args[3:]), "the model fine-tuned (--from) differs: the checkpoint has model.onnx (sha256 "},
		{slices.Concat([]string{"train"}, args[7:]), "this run has a built-in architecture (no --from)"},
	} {
		status, stdout, stderr := runCLI(append(c.args, "--epochs", "3", "--resume", ckpt, "--out", filepath.Join(t.TempDir(), "m.onnx"))...)
		if status == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: status %d, stderr %q; want an error containing %q\n%s", c.args[:3], status, stderr, c.want, stdout)
		}
	}
}

// killAndResume runs onnxrun with args once to the end, then again with a checkpoint every `every`
// steps in a child process that it kills with SIGKILL after the first checkpoint, resumes that run, and
// requires the same exported weights bit for bit. It returns the checkpoint folder.
func killAndResume(t *testing.T, args []string, every string) (ckpt string) {
	t.Helper()
	dir := t.TempDir()
	want, got, ckpt := filepath.Join(dir, "whole.onnx"), filepath.Join(dir, "resumed.onnx"), filepath.Join(dir, "ckpt")

	if status, stdout, stderr := runCLI(append(args, "--out", want)...); status != 0 {
		t.Fatalf("uninterrupted run: status %d\n%s%s", status, stdout, stderr)
	}

	killed := append(args, "--out", got, "--checkpoint", ckpt, "--checkpoint-every", every)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), trainHelperEnv+"="+strings.Join(killed, "\n"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	checkpoint := filepath.Join(ckpt, models.CheckpointFile)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(checkpoint); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 2 minutes:\n%s", out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the run ended with %v before it was killed:\n%s", err, out.String())
	}
	if _, err := os.Stat(got); err == nil {
		t.Fatalf("the killed run wrote %s: it was not killed mid-run", got)
	}

	// What a kill in the middle of writing a checkpoint leaves (the kill above may have done it too): the
	// resumed run's first checkpoint removes it.
	if err := os.WriteFile(filepath.Join(ckpt, "."+models.CheckpointFile+".tmp-1"), []byte("half a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, stdout, stderr := runCLI(append(args, "--out", got, "--resume", ckpt, "--checkpoint", ckpt, "--checkpoint-every", every)...)
	if status != 0 {
		t.Fatalf("resumed run: status %d\n%s%s", status, stdout, stderr)
	}
	if left, err := os.ReadDir(ckpt); err != nil || len(left) != 1 {
		t.Errorf("the checkpoint folder holds %v (%v), want only %s", left, err, models.CheckpointFile)
	}
	var epoch, done, total int
	at := strings.Index(stdout, "resumed from")
	if at < 0 {
		t.Fatalf("no resume line in the output:\n%s", stdout)
	}
	if _, err := fmt.Sscanf(stdout[at+len("resumed from "+ckpt):], " at epoch %d, %d of %d images done", &epoch, &done, &total); err != nil {
		t.Fatalf("no resume line in the output (%v):\n%s", err, stdout)
	}
	if done == 0 || done == total {
		t.Fatalf("resumed at epoch %d, %d of %d images: want mid-epoch", epoch, done, total)
	}
	t.Logf("killed after a checkpoint at epoch %d, %d of %d images", epoch, done, total)

	a, b := initializers(t, want), initializers(t, got)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d initializers uninterrupted, %d resumed", len(a), len(b))
	}
	for name, w := range a {
		if !bytes.Equal(w, b[name]) {
			t.Errorf("initializer %s differs between the uninterrupted and the resumed run", name)
		}
	}
	return ckpt
}
