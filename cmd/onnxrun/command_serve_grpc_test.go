package main

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/onnxrun/onnxrun/serve/grpcpb"
	"github.com/onnxrun/onnxrun/tensorio"
)

// --grpc-port serves the models over gRPC beside HTTP: a ModelInfer call classifies a digit, the health
// service answers SERVING for the model, and the server stops gracefully with both listeners.
func TestServeCommandGRPC(t *testing.T) {
	model, input := lenet(t)
	all, err := tensorio.ReadNPYFile(input)
	if err != nil {
		t.Fatal(err)
	}
	pixels := all.Float32s()[:28*28] // the first digit, a 7

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, _, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "lenet=" + model},
		"grpc.health.v1) on ", "\n")
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "lenet"})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health of lenet: %v, %v", h, err)
	}
	resp, err := grpcpb.NewGRPCInferenceServiceClient(conn).ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "lenet",
		Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 1, 28, 28},
			Contents: &grpcpb.InferTensorContents{Fp32Contents: pixels}}}})
	if err != nil {
		t.Fatal(err)
	}
	if class := argmaxOf(resp.GetOutputs()[0].GetContents().GetFp32Contents()); class != 7 {
		t.Errorf("class %d, want 7", class)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
