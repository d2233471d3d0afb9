// Package grpcpb holds the Go types and gRPC service generated from grpc_predict_v2.proto, onnxrun's own
// schema of the Open Inference Protocol over gRPC (KServe's v2 GRPCInferenceService, with the protocol's
// names and field numbers). Package serve implements the service; this package is only the wire layout.
//
// The .pb.go files are generated and committed. Regenerate them after editing the schema with
//
//	go generate ./serve/grpcpb
//
// (or `make proto`), which needs protoc (Debian's protobuf-compiler) on PATH; protoc-gen-go is built from
// the version pinned in go.mod and protoc-gen-go-grpc from the version pinned in onnx/internal/protocgen.
package grpcpb

//go:generate go run ../../onnx/internal/protocgen -root ../.. -grpc serve/grpcpb/grpc_predict_v2.proto
