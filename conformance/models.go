package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// ModelTolerance is the comparison the reference models' README asks for: |got - want| <= 1e-4 + 1e-4*|want|.
var ModelTolerance = Tolerance{RTol: 1e-4, ATol: 1e-4}

// RunModelDir checks a reference-model folder (model.onnx, input_0.npy [, input_1.npy ...], expected_0.npy
// [, expected_1.npy ...], the layout of ../shared/models and of the torchvision models that
// scripts/export_torchvision.py writes) at the batch the inputs have and, when the model's batch
// dimension is symbolic, again at batch 1 on the first sample. Sub-folders data_set_<label>/ with the same
// files are more data sets, run by the same compiled plan: the other input sizes of a model whose spatial
// size is symbolic (scripts/export_symbolic_size.py).
func RunModelDir(dir string, tol Tolerance) Result {
	c := Case{Name: filepath.Base(dir), Dir: dir, Kind: ModelDir}
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		res := Result{Case: c, Tolerance: tol}
		return res.failed(err)
	}
	res := Check(m, func() ([]DataSet, error) { return modelDataSets(dir, m) }, tol)
	res.Case = c
	return res
}

// modelDataSets reads the inputs and ONNX Runtime's outputs of a model folder: one data set at the batch
// the files have, a second of the first sample alone when the batch is larger than 1 and symbolic, and one
// per data_set_<label>/ sub-folder.
func modelDataSets(dir string, m *onnx.Model) ([]DataSet, error) {
	main, err := readModelDataSet(dir, m)
	if err != nil {
		return nil, err
	}
	batch := batchOf(main.Inputs)
	main.Name = fmt.Sprintf("batch %d", batch)
	sets := []DataSet{main}
	if batch > 1 && symbolicBatch(m) {
		sets = append(sets, DataSet{Name: "batch 1", Inputs: firstSample(main.Inputs), Outputs: firstSample(main.Outputs)})
	}
	more, err := filepath.Glob(filepath.Join(dir, "data_set_*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(more)
	for _, sub := range more {
		set, err := readModelDataSet(sub, m)
		if err != nil {
			return nil, err
		}
		set.Name = filepath.Base(sub)
		sets = append(sets, set)
	}
	return sets, nil
}

// readModelDataSet reads dir/input_K.npy and dir/expected_K.npy.
func readModelDataSet(dir string, m *onnx.Model) (DataSet, error) {
	inputs, err := readNumbered(dir, "input", graphInputs(m.Proto.GetGraph()))
	if err != nil {
		return DataSet{}, err
	}
	wants, err := readNumbered(dir, "expected", m.Proto.GetGraph().GetOutput())
	if err != nil {
		return DataSet{}, err
	}
	return DataSet{Inputs: inputs, Outputs: wants}, nil
}

// readNumbered reads dir/prefix_0.npy, prefix_1.npy, ... up to the first missing number; there must be one.
// A value that is not a tensor (a map input, a sequence of maps output) is prefix_i.pb instead, read as
// the type decls[i] declares.
func readNumbered(dir, prefix string, decls []*onnxpb.ValueInfoProto) ([]*ops.Tensor, error) {
	var out []*ops.Tensor
	for i := 0; ; i++ {
		path := filepath.Join(dir, fmt.Sprintf("%s_%d.npy", prefix, i))
		if pb := filepath.Join(dir, fmt.Sprintf("%s_%d.pb", prefix, i)); !isFile(path) && isFile(pb) {
			if i >= len(decls) || decls[i].GetType().GetTensorType() != nil {
				return nil, fmt.Errorf("%s: the model declares no sequence, optional or map for it: write a tensor as .npy", pb)
			}
			v, err := readValue(pb, decls[i].GetType())
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if _, err := os.Stat(path); err != nil {
			if i == 0 {
				return nil, fmt.Errorf("%s: missing", path)
			}
			return out, nil
		}
		t, err := tensorio.ReadNPYFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
}

func batchOf(ts []*ops.Tensor) int {
	if len(ts) == 0 || ts[0].Rank() == 0 {
		return 0
	}
	return ts[0].Shape()[0]
}

// symbolicBatch reports whether every graph input (initializers aside) has a first dimension that is not
// a fixed number.
func symbolicBatch(m *onnx.Model) bool {
	n := 0
	for _, in := range graphInputs(m.Proto.GetGraph()) {
		_, dims, ok := onnx.ValueInfoShape(in)
		if !ok || len(dims) == 0 || dims[0].Known() {
			return false
		}
		n++
	}
	return n > 0
}

// firstSample returns each tensor's first row along axis 0, keeping the axis (shape [1, ...]), and each
// sequence's first element (a classifier's seq(map) of probabilities has one map per row).
func firstSample(ts []*ops.Tensor) []*ops.Tensor {
	out := make([]*ops.Tensor, len(ts))
	for i, t := range ts {
		if t.Kind() == ops.KindSequence {
			out[i] = ops.NewSequence(*t.Type().Elem, t.Elements()[:min(1, len(t.Elements()))])
			continue
		}
		shape := t.Shape().Clone()
		n := shape[0]
		shape[0] = 1
		per := t.Len() / n
		out[i], _ = ops.FromData(t.DType(), shape, ops.Slice(t.Data(), 0, per))
	}
	return out
}
