// Package mt19937 is the Mersenne Twister of Matsumoto and Nishimura (1998), written from the published
// algorithm. The random kernels (Dropout in ops/cnn; Bernoulli and RandomUniformLike in ops/random) use it
// because numpy's legacy RandomState does: with the same seed the two draw the same uniforms, so a Dropout
// node with a seed attribute reproduces ONNX's reference outputs.
package mt19937

// Generator is the generator's state. It is a value type (2.5 KB) so a kernel can keep one on its stack
// without allocating; the zero value must be seeded before use.
type Generator struct {
	state [624]uint32
	pos   int
}

// Seed initialises the state from a 32-bit seed (the reference init_genrand, which numpy's seed(int) uses).
func (m *Generator) Seed(s uint32) {
	m.state[0] = s
	for i := 1; i < len(m.state); i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.pos = len(m.state)
}

// twist regenerates the whole state block.
func (m *Generator) twist() {
	const (
		n, shift = 624, 397
		matrixA  = 0x9908b0df
		upper    = 0x80000000
		lower    = 0x7fffffff
	)
	for i := 0; i < n; i++ {
		y := m.state[i]&upper | m.state[(i+1)%n]&lower
		next := m.state[(i+shift)%n] ^ y>>1
		if y&1 != 0 {
			next ^= matrixA
		}
		m.state[i] = next
	}
	m.pos = 0
}

// Uint32 returns the next tempered 32-bit output.
func (m *Generator) Uint32() uint32 {
	if m.pos >= len(m.state) {
		m.twist()
	}
	y := m.state[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Float64 returns a uniform value in [0, 1) with 53 random bits, built from two outputs as numpy's
// random_sample does: (a>>5 * 2^26 + b>>6) / 2^53.
func (m *Generator) Float64() float64 {
	a := m.Uint32() >> 5
	b := m.Uint32() >> 6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}
