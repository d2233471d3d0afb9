module github.com/onnxrun/onnxrun/bench/ortcompare

go 1.26.0

require (
	github.com/onnxrun/onnxrun v0.0.0-00010101000000-000000000000
	github.com/yalue/onnxruntime_go v1.27.0
)

require (
	golang.org/x/sys v0.48.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The benchmark measures the working tree it sits in.
replace github.com/onnxrun/onnxrun => ../..
