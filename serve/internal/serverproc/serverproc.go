// Package serverproc runs an inference server (package serve, as `onnxrun serve` runs it) in a child
// process of the measuring tool, so that the load generator and the server are two processes scheduled by
// the operating system: in one process they would share Go's scheduler and garbage collector, and the
// generator's goroutines would take turns with the server's.
//
// The child is the tool itself, started again: a tool calls ServeIfChild first thing in main (a test, in
// TestMain), which serves and exits when the process was started by Start. Re-executing the tool needs no
// build of cmd/onnxrun, and the child runs the same serve.Load, serve.New, Serve and ServeGRPC calls that
// `onnxrun serve` makes.
//
// # Protocol between the two
//
// Start passes the Spec as JSON in the environment variable ONNXRUN_SERVERPROC_SPEC. The child loads the
// models, listens on 127.0.0.1 (ports chosen by the kernel), and writes one JSON line with its addresses on
// standard output; a load failure goes to standard error and a non-zero exit, which Start reports. The
// child serves until its standard input closes (Stop, or the parent dying), then shuts down gracefully.
package serverproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/serve"
)

const specVariable = "ONNXRUN_SERVERPROC_SPEC"

// Model is a model file to serve under a name.
type Model struct {
	Name, Path string
}

// Spec says what the child serves and how.
type Spec struct {
	Models []Model
	// Sessions, MaxBatch, QueueSize and MaxQueueDelay are serve.Config's (0: its defaults).
	Sessions, MaxBatch, QueueSize int
	MaxQueueDelay                 time.Duration
	// GRPC also serves KServe's gRPC protocol on a port of its own.
	GRPC bool
}

func (s Spec) config() serve.Config {
	return serve.Config{Sessions: s.Sessions, MaxBatch: s.MaxBatch, QueueSize: s.QueueSize, MaxQueueDelay: s.MaxQueueDelay}
}

// addresses is the child's line on standard output.
type addresses struct {
	HTTP, GRPC string
	// QueueSizes are the served models' queue sizes, by name (the default depends on the child's cores).
	QueueSizes map[string]int
}

// ServeIfChild serves and exits when this process is a child started by Start, and returns at once
// otherwise.
func ServeIfChild() {
	raw, ok := os.LookupEnv(specVariable)
	if !ok {
		return
	}
	if err := serveChild(raw, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "serverproc child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// RunTests is the TestMain of a package whose tests start children: the test binary is the executable
// Start starts again, so it must serve when it is a child and run the tests otherwise.
//
//	func TestMain(m *testing.M) { serverproc.RunTests(m) }
func RunTests(m interface{ Run() int }) {
	ServeIfChild()
	os.Exit(m.Run())
}

func serveChild(rawSpec string, stop io.Reader, announce io.Writer) error {
	var spec Spec
	if err := json.Unmarshal([]byte(rawSpec), &spec); err != nil {
		return fmt.Errorf("%s: %w", specVariable, err)
	}
	cfg := spec.config()
	var models []*serve.Model
	for _, src := range spec.Models {
		m, err := serve.Load(serve.ModelSource{Name: src.Name, Path: src.Path}, cfg)
		if err != nil {
			for _, loaded := range models {
				loaded.Close()
			}
			return fmt.Errorf("%s: %w", src.Path, err)
		}
		models = append(models, m)
	}
	srv, err := serve.New(cfg, models...)
	if err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())
	addrs := addresses{QueueSizes: map[string]int{}}
	for _, m := range models {
		addrs.QueueSizes[m.Name()] = m.QueueSize()
	}
	served := make(chan error, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addrs.HTTP = ln.Addr().String()
	go func() { served <- srv.Serve(ln) }()
	if spec.GRPC {
		gln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addrs.GRPC = gln.Addr().String()
		go func() { served <- srv.ServeGRPC(gln) }()
	}
	line, err := json.Marshal(addrs)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(announce, "%s\n", line); err != nil {
		return err
	}
	stopped := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stop) // returns when the parent closes our standard input, or dies
		close(stopped)
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-stopped:
		return nil
	}
}

// Process is a running child server.
type Process struct {
	// HTTPAddr and GRPCAddr are host:port on loopback (GRPCAddr empty without Spec.GRPC).
	HTTPAddr, GRPCAddr string
	// QueueSizes are the models' queue sizes as the child set them.
	QueueSizes map[string]int

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *strings.Builder
}

// startTimeout bounds how long the child may take to load its models and listen.
const startTimeout = 2 * time.Minute

// Start starts this executable again as a server for spec and waits until it listens. What the child
// writes to standard error is kept for the errors of Start and Stop.
func Start(spec Spec) (*Process, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("serverproc: finding this executable to start the server: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), specVariable+"="+string(raw))
	p := &Process{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("serverproc: starting %s: %w", self, err)
	}
	announced := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		if err != nil {
			announced <- err
			return
		}
		var addrs addresses
		if err := json.Unmarshal(line, &addrs); err != nil {
			announced <- fmt.Errorf("the child's first line %q: %w", line, err)
			return
		}
		p.HTTPAddr, p.GRPCAddr, p.QueueSizes = addrs.HTTP, addrs.GRPC, addrs.QueueSizes
		announced <- nil
		io.Copy(io.Discard, stdout)
	}()
	select {
	case err = <-announced:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no address after %v", startTimeout)
	}
	if err != nil {
		p.stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("serverproc: the server process did not start: %v: %s", err, strings.TrimSpace(p.stderr.String()))
	}
	return p, nil
}

// SampleInput asks the server for a model's metadata and makes its input at a batch of one (every
// variable dimension 1), filled with a repeating ramp in [0, 1): for tools that send one FP32 input.
func (p *Process) SampleInput(ctx context.Context, model string) (name string, x *ops.Tensor, err error) {
	meta, err := (&serve.Client{BaseURL: "http://" + p.HTTPAddr}).ModelMetadata(ctx, model)
	if err != nil {
		return "", nil, err
	}
	if len(meta.Inputs) != 1 || meta.Inputs[0].Datatype != "FP32" {
		return "", nil, fmt.Errorf("model %q has inputs %+v; want one FP32 input", model, meta.Inputs)
	}
	in := meta.Inputs[0]
	shape := make(ops.Shape, len(in.Shape))
	for i, d := range in.Shape {
		shape[i] = int(max(d, 1))
	}
	data := make([]float32, shape.Size())
	for i := range data {
		data[i] = float32(i%255) / 255
	}
	return in.Name, ops.FromSlice(shape, data), nil
}

// PID is the child's process id, for /proc/PID (loadgen.ReadProcessMemory and ReadProcessCPU).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop asks the child to shut down (it finishes the requests in flight) and waits for it; an error says
// how it ended badly, with what it wrote to standard error.
func (p *Process) Stop() error {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("serverproc: the server process: %w: %s", err, strings.TrimSpace(p.stderr.String()))
		}
		return nil
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
		return errors.New("serverproc: the server process did not stop within 30s of its input closing; killed")
	}
}
