// Command onnxrun runs ONNX models from the command line.
//
//	onnxrun MODEL.onnx INPUT...                run the model, print its outputs (the "run" command)
//	onnxrun run [flags] MODEL.onnx [NAME=]INPUT...
//	onnxrun summary MODEL.onnx                 Keras-style table of layers, shapes and parameters
//	onnxrun inspect [--json|--dot F|--plan] MODEL.onnx   what the file says about itself, or the plan
//	onnxrun bench [--batch B --threads T --profile] MODEL.onnx   latency, throughput, GFLOP/s, memory
//	onnxrun conformance DIR...                 run ONNX backend tests or reference models, report per op
//	onnxrun train --data DIR [--epochs N ...]  train the seed's LeNet in Go and export it to ONNX
//	onnxrun quantize MODEL.onnx -o OUT.onnx [--mode static --calibrate DATA ...]  int8 QDQ copy of a model
//	onnxrun serve MODEL.onnx... [--http-port P]  serve over the Open Inference Protocol (KServe v2)
//	onnxrun completion bash|zsh|fish           a shell completion script
//	onnxrun version (or --version)             version, revision, Go, and the kernels this CPU gets
//	onnxrun help [COMMAND]                     list the commands, or show one's flags and examples
//
// Inputs are .npy, serialized TensorProto (.pb) or .npz files, or pictures (.png, .jpg, .gif) converted
// to the input's layout, channels and size; they are matched to the model's inputs by position or by
// name (an .npz archive by its arrays' names), and --random makes the missing ones up. For each output,
// run prints its name, dtype and shape and its values the way numpy prints an array, then the top
// classes of a [K] or [1,K] output (named by --labels) or the argmax of each row of an [N,K] one; -o
// writes the outputs to files, and --dump-intermediate every node's output.
//
// # Layout
//
// This package holds flags and printing only; loading, compiling and running are package runtime's,
// tensor files and pictures package tensorio's, model descriptions package inspect's, benchmarks package
// bench's, training package models', quantization package quantize's, serving package serve's. Each command is one file, command_NAME.go,
// returning a *command
// (help text, examples, flag definitions, run function) that commandTable lists. A first argument that
// is not a command name goes to the default command, run.
//
// # Errors and exit status
//
// Every error is one line on stderr, "onnxrun: " and what is wrong, naming the file, input or node
// involved. The exit status is 0 on success, 1 when a model or input is wrong or running fails, and 2
// for a malformed command line (unknown command or flag, bad flag value, missing or extra arguments). A
// panic is recovered at the top and reported as a one-line internal error with status 1.
//
// The whole program short of os.Exit is run(args, stdout, stderr), which the tests drive in-process.
package main
