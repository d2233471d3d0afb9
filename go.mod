module github.com/onnxrun/onnxrun

go 1.24.0

require (
	github.com/spf13/pflag v1.1.0
	golang.org/x/sys v0.41.0
	google.golang.org/protobuf v1.36.12
)
