// Package exporter builds ONNX models from Go: a small graph builder (inputs, initializers, nodes with Go-valued
// attributes, outputs, value_info) that writes a ModelProto with a chosen opset, the IR version that goes with
// it, producer name and version, doc strings and metadata. The trainer in package models exports LeNet with
// it, and tests use it to make one-node models. It depends only on package onnx.
//
// # Names
//
// Value and node names are made unique (conv, conv_1, ...). Attributes are written sorted by name and
// tensors in raw_data, so the same graph exports to the same bytes within one binary (protobuf's
// deterministic marshalling promises no more than that).
package exporter
