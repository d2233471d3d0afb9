// Package onnxpb holds the Go types generated from onnx.proto, onnxrun's own wire-compatible
// description of the ONNX model format. Use package onnx for loading, validation and tensor
// conversion; this package is only the data layout.
//
// onnx.pb.go is generated and committed. Regenerate it after editing onnx.proto with
//
//	go generate ./onnx/onnxpb
//
// which needs protoc (Debian's protobuf-compiler) on PATH; protoc-gen-go is built from the
// version pinned in go.mod.
package onnxpb

//go:generate go run ../internal/protocgen -root ../.. onnx/onnxpb/onnx.proto
