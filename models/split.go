package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// DefaultValSplit is how many training examples the train command holds out for validation unless told
// otherwise (--val-split): 5,000 of MNIST's 60,000, a validation accuracy read to 0.02%.
const DefaultValSplit = 5000

// SplitValidation holds n examples of ds out for validation and returns the rest for training: disjoint
// copies, the held-out examples drawn at random from a PCG generator seeded by seed, each part kept in
// the order of ds. valIndices are the held-out examples' indices in ds, ascending.
//
// The split is random rather than the last n examples because the order of a dataset says something about
// its examples: an image folder is read class by class, so its last 5,000 images are all of the last
// classes; and MNIST's training file groups its writers. A random draw gives a validation set distributed
// as the training set is. It is seeded so that a run and its schedule comparisons see the same split.
func SplitValidation(ds *Dataset, n int, seed uint64) (train, val *Dataset, valIndices []int, err error) {
	if n < 1 || n >= ds.N {
		return nil, nil, nil, fmt.Errorf("models: a validation split of %d examples out of %d in %s leaves none to train or to validate on", n, ds.N, ds.Name)
	}
	rng := rand.New(rand.NewPCG(seed, 0x76616c6964)) // "valid"
	valIndices = rng.Perm(ds.N)[:n]
	slices.Sort(valIndices)
	held := make([]bool, ds.N)
	for _, i := range valIndices {
		held[i] = true
	}
	trainIndices := make([]int, 0, ds.N-n)
	for i := range ds.N {
		if !held[i] {
			trainIndices = append(trainIndices, i)
		}
	}
	train, val = ds.pick(trainIndices), ds.pick(valIndices)
	train.Name, val.Name = ds.Name+" (training part)", ds.Name+" (validation split)"
	return train, val, valIndices, nil
}

// pick returns a copy of the examples idx of d, in that order.
func (d *Dataset) pick(idx []int) *Dataset {
	s := *d
	s.N = len(idx)
	size := d.imageSize()
	s.Labels = make([]uint8, len(idx))
	if d.Pixels != nil {
		s.Pixels = make([]float32, len(idx)*size)
	} else {
		s.Images = make([]uint8, len(idx)*size)
	}
	for k, i := range idx {
		s.Labels[k] = d.Labels[i]
		if d.Pixels != nil {
			copy(s.Pixels[k*size:(k+1)*size], d.Pixels[i*size:(i+1)*size])
		} else {
			copy(s.Images[k*size:(k+1)*size], d.Images[i*size:(i+1)*size])
		}
	}
	return &s
}
