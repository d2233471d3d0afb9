package onnx

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/onnxrun/onnxrun/internal/hugepage"
)

// Reading a model file without copying its weights twice. protobuf-go copies every bytes field it decodes
// (it has no aliasing option for them), so reading a file and unmarshalling it moves each weight twice and,
// for a moment, holds it twice: the file's bytes and the message's. Load instead streams the file through
// splitModel, which walks the wire format of the few messages on the path to the weights,
// ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto.raw_data (9), reads each initializer's
// raw_data straight from the file into a buffer of its own, and copies everything else (node lists, names,
// shapes, unknown fields: a small part of a large model) into a stripped model that protobuf-go decodes as
// usual. The buffers are then put back into the decoded initializers, in file order.
//
// The result equals what protobuf-go gives for the whole file (FuzzSplitModel checks it): the stripped
// bytes keep every other field in its place, so merged repeated graph fields, last-one-wins scalars and
// unknown fields come out the same, and a raw_data field that occurs twice keeps the last. Anything the
// walk does not understand (a field on the path with the wrong wire type, a group, a length past its
// message's end, a truncated file) stops it with errNotSplit, and Load decodes the whole file the ordinary
// way, so malformed files get the same errors as from Decode. Every length is checked against the bytes
// its message has left before anything is allocated, so no buffer is larger than the file.

// Field numbers on the path to the weights (onnx.proto).
const (
	modelGraphField       protowire.Number = 7
	graphInitializerField protowire.Number = 5
	tensorRawDataField    protowire.Number = 9
)

// errNotSplit means the file is not one splitModel handles; the caller decodes it whole.
var errNotSplit = errors.New("onnx: model not split")

// splitModel reads a serialized ModelProto of size bytes from r. It returns the model without its main
// graph's initializers' raw_data, and those raw_data, one entry per initializer in file order (nil for an
// initializer that has none; a present but empty raw_data is an empty, non-nil slice, as protobuf-go
// gives it).
func splitModel(r io.Reader, size int64) (stripped []byte, raws [][]byte, err error) {
	return (&wireSplitter{r: bufio.NewReaderSize(r, 64<<10)}).split(size)
}

// splitMapped is splitModel over a file mapped into memory: each raw_data is a slice of mapped, not a
// copy, so the weights stay in the file's pages (see Mapping).
func splitMapped(mapped []byte) (stripped []byte, raws [][]byte, err error) {
	w := &wireSplitter{r: bufio.NewReaderSize(bytes.NewReader(mapped), 64<<10), mapped: mapped}
	return w.split(int64(len(mapped)))
}

func (w *wireSplitter) split(size int64) (stripped []byte, raws [][]byte, err error) {
	stripped, err = w.message(size, w.modelField)
	if err != nil {
		return nil, nil, err
	}
	return stripped, w.raws, nil
}

// wireSplitter walks a message from a stream, position pos.
type wireSplitter struct {
	r    *bufio.Reader
	pos  int64
	raws [][]byte
	raw  []byte // the current initializer's raw_data
	// mapped, when not nil, is the whole file in memory (r reads the same bytes): raw_data is sliced out
	// of it rather than read into a buffer of its own.
	mapped []byte
}

// fieldFunc handles one field of a message whose tag was just read: it appends what the stripped message
// keeps to out. It reports handled=false for a field to be copied as it is.
type fieldFunc func(out []byte, num protowire.Number, typ protowire.Type, end int64) (_ []byte, handled bool, _ error)

// message reads n bytes of a message, calling f on each field and copying the fields f leaves.
func (w *wireSplitter) message(n int64, f fieldFunc) ([]byte, error) {
	end := w.pos + n
	var out []byte
	for w.pos < end {
		tag, err := w.varint(end)
		if err != nil {
			return nil, err
		}
		num, typ := protowire.DecodeTag(tag)
		if !num.IsValid() {
			return nil, errNotSplit
		}
		var handled bool
		if out, handled, err = f(out, num, typ, end); err != nil {
			return nil, err
		}
		if !handled {
			if out, err = w.copyField(protowire.AppendTag(out, num, typ), typ, end); err != nil {
				return nil, err
			}
		}
	}
	if w.pos != end {
		return nil, errNotSplit
	}
	return out, nil
}

func (w *wireSplitter) modelField(out []byte, num protowire.Number, typ protowire.Type, end int64) ([]byte, bool, error) {
	if num != modelGraphField {
		return out, false, nil
	}
	out, err := w.submessage(out, num, typ, end, w.graphField)
	return out, true, err
}

func (w *wireSplitter) graphField(out []byte, num protowire.Number, typ protowire.Type, end int64) ([]byte, bool, error) {
	if num != graphInitializerField {
		return out, false, nil
	}
	w.raw = nil
	out, err := w.submessage(out, num, typ, end, w.tensorField)
	w.raws = append(w.raws, w.raw)
	return out, true, err
}

func (w *wireSplitter) tensorField(out []byte, num protowire.Number, typ protowire.Type, end int64) ([]byte, bool, error) {
	if num != tensorRawDataField {
		return out, false, nil
	}
	if typ != protowire.BytesType {
		return out, true, errNotSplit
	}
	n, err := w.length(end)
	if err != nil {
		return out, true, err
	}
	var raw []byte
	if w.mapped != nil {
		raw = w.mapped[w.pos : w.pos+n : w.pos+n] // length checked against the message, within the file
		if err := w.skip(n); err != nil {
			return out, true, err
		}
	} else {
		raw = hugepage.Bytes(int(n)) // a weight, kept as long as the model: see package hugepage
		if err := w.read(raw); err != nil {
			return out, true, err
		}
	}
	w.raw = raw // a repeated raw_data: the last one wins, as in protobuf-go
	return out, true, nil
}

// submessage splits a length-delimited field holding a message with f, and appends it to out with its new
// length.
func (w *wireSplitter) submessage(out []byte, num protowire.Number, typ protowire.Type, end int64, f fieldFunc) ([]byte, error) {
	if typ != protowire.BytesType {
		return out, errNotSplit
	}
	n, err := w.length(end)
	if err != nil {
		return out, err
	}
	body, err := w.message(n, f)
	if err != nil {
		return out, err
	}
	out = protowire.AppendTag(out, num, typ)
	return protowire.AppendBytes(out, body), nil
}

// copyField appends the value of a field of wire type typ to out, as it is in the stream.
func (w *wireSplitter) copyField(out []byte, typ protowire.Type, end int64) ([]byte, error) {
	var n int64
	switch typ {
	case protowire.VarintType:
		v, err := w.varint(end)
		return protowire.AppendVarint(out, v), err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		var err error
		if n, err = w.length(end); err != nil {
			return out, err
		}
		out = protowire.AppendVarint(out, uint64(n))
	default: // groups, long deprecated: left to protobuf-go
		return out, errNotSplit
	}
	if n > end-w.pos {
		return out, errNotSplit
	}
	start := len(out)
	out = slices.Grow(out, int(n))[:start+int(n)]
	return out, w.read(out[start:])
}

// length reads a length prefix and checks it against the bytes left before end.
func (w *wireSplitter) length(end int64) (int64, error) {
	v, err := w.varint(end)
	if err != nil {
		return 0, err
	}
	if v > uint64(end-w.pos) {
		return 0, errNotSplit
	}
	return int64(v), nil
}

// varint reads a base-128 varint of at most 10 bytes, none of them past end. A varint re-encoded by
// AppendVarint may be shorter than the stream's (padded varints are legal): lengths are recomputed, so
// that does not matter.
func (w *wireSplitter) varint(end int64) (uint64, error) {
	var v uint64
	const maxVarintBytes = 10
	for i := 0; i < maxVarintBytes; i++ {
		if w.pos >= end {
			return 0, errNotSplit
		}
		b, err := w.r.ReadByte()
		if err != nil {
			return 0, errNotSplit
		}
		w.pos++
		if i == 9 && b > 1 {
			return 0, errNotSplit // overflows 64 bits
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if i+1 != protowire.SizeVarint(v) {
				// A varint padded with continuation bytes: the stripped message re-encodes tags, lengths
				// and values minimally, which would change unknown fields' bytes. Leave it to protobuf-go.
				return 0, errNotSplit
			}
			return v, nil
		}
	}
	return 0, errNotSplit
}

// skip passes over n bytes of the stream.
func (w *wireSplitter) skip(n int64) error {
	if _, err := w.r.Discard(int(n)); err != nil {
		return errNotSplit
	}
	w.pos += n
	return nil
}

func (w *wireSplitter) read(p []byte) error {
	if _, err := io.ReadFull(w.r, p); err != nil {
		return errNotSplit // the file is shorter than it said
	}
	w.pos += int64(len(p))
	return nil
}
