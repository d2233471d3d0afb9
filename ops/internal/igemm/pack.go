package igemm

import (
	"encoding/binary"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// Tile and packing geometry. Every kernel variant reads the same layout, so operands prepacked by
// PackA / PackB serve whichever variant runs.
const (
	mr = 8  // rows of A per panel and per micro-tile
	nr = 16 // columns of B per panel and per micro-tile (one zmm of int32)
	kg = 4  // K is packed in groups of 4 bytes: VPDPBUSD sums 4 u8·s8 products into one int32
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// kPadded is K rounded up to whole groups; the padding bytes are 0 in both operands, so they add 0.
func kPadded(k int) int { return ceilDiv(k, kg) * kg }

// PackedA is a constant A (e.g. Conv weights, output channels as rows) packed once by PackA into the
// kernel's layout, with its row sums. It is immutable and may be shared by sessions and threads.
type PackedA struct {
	m, k    int
	signed  bool
	data    []byte  // ceil(m/mr) panels of kPadded(k)*mr bytes, u8 (sign bit flipped if signed)
	rowSums []int32 // Σ_p of the stored (u8) values of each row
}

// PackedB is a constant B (e.g. MatMul/Gemm weights) packed once by PackB, with its column sums. It is
// immutable and may be shared by sessions and threads.
type PackedB struct {
	k, n    int
	signed  bool
	data    []byte  // ceil(n/nr) panels of kPadded(k)*nr bytes, s8 (sign bit flipped if unsigned)
	colSums []int32 // Σ_p of the stored (s8) values of each column
}

// PackA packs the m×k row-major A (stride lda; int8 when signed, else uint8) for Params.PackedA.
func PackA(signed bool, m, k int, a []byte, lda int) *PackedA {
	pa := &PackedA{m: m, k: k, signed: signed,
		data: make([]byte, ceilDiv(m, mr)*mr*kPadded(k)), rowSums: make([]int32, m)}
	packA(pa.data, pa.rowSums, a, lda, signed, m, k)
	return pa
}

// PackB packs B (k×n row-major, or n×k when trans; stride ldb; int8 when signed, else uint8) for
// Params.PackedB.
func PackB(signed, trans bool, k, n int, b []byte, ldb int) *PackedB {
	pb := &PackedB{k: k, n: n, signed: signed,
		data: make([]byte, ceilDiv(n, nr)*nr*kPadded(k)), colSums: make([]int32, n)}
	packB(pb.data, pb.colSums, b, ldb, signed, trans, 0, n, k)
	return pb
}

// packA writes A's panels into dst: panel r holds rows r*mr..r*mr+mr-1, as groups of kg bytes
// (dst[panel][g][row][q] = A[row][g*kg+q]), converted to u8 by flipping the sign bit of an int8 A;
// rows past m and K past k are 0. sums[i] receives Σ_p of row i's stored values.
func packA(dst []byte, sums []int32, a []byte, lda int, signed bool, m, k int) {
	kp := kPadded(k)
	var flip byte
	if signed {
		flip = 0x80
	}
	flip4 := uint32(flip) * 0x01010101
	clear(dst[:ceilDiv(m, mr)*mr*kp])
	if k == 0 {
		clear(sums[:m])
		return
	}
	full := k / kg
	for i := 0; i < m; i++ {
		row := a[i*lda : i*lda+k]
		out := dst[(i/mr)*mr*kp+(i%mr)*kg:]
		var sum int32
		for g := 0; g < full; g++ {
			u := binary.LittleEndian.Uint32(row[g*kg:]) ^ flip4
			binary.LittleEndian.PutUint32(out[g*mr*kg:], u)
			sum += int32(u&0xff) + int32(u>>8&0xff) + int32(u>>16&0xff) + int32(u>>24)
		}
		for p := full * kg; p < k; p++ {
			u := row[p] ^ flip
			out[full*mr*kg+p-full*kg] = u
			sum += int32(u)
		}
		sums[i] = sum
	}
}

// packB writes columns j0..j1-1 of op(B) into dst as panels of nr columns, groups of kg bytes
// (dst[panel][g][col][q] = op(B)[g*kg+q][col]), converted to s8 by flipping the sign bit of a uint8
// B; columns past j1 and K past k are 0. sums[j-j0] receives Σ_p of column j's stored values.
func packB(dst []byte, sums []int32, b []byte, ldb int, signed, trans bool, j0, j1, k int) {
	kp := kPadded(k)
	var flip byte
	if !signed {
		flip = 0x80
	}
	flip4 := uint32(flip) * 0x01010101
	n := j1 - j0
	clear(dst[:ceilDiv(n, nr)*nr*kp])
	clear(sums[:n])
	if k == 0 {
		return
	}
	full := k / kg
	if trans {
		for c := 0; c < n; c++ {
			out := dst[(c/nr)*nr*kp+(c%nr)*kg:]
			col := b[(j0+c)*ldb : (j0+c)*ldb+k]
			var sum int32
			for g := 0; g < full; g++ {
				u := binary.LittleEndian.Uint32(col[g*kg:]) ^ flip4
				binary.LittleEndian.PutUint32(out[g*nr*kg:], u)
				sum += int32(int8(u)) + int32(int8(u>>8)) + int32(int8(u>>16)) + int32(int8(u>>24))
			}
			for p := full * kg; p < k; p++ {
				s := col[p] ^ flip
				out[full*nr*kg+p-full*kg] = s
				sum += int32(int8(s))
			}
			sums[c] = sum
		}
		return
	}
	// Whole groups: four rows of B give each column one 4-byte word of its panel; whole panels go
	// to the chosen panel packer, the columns of a last partial panel to the same loop in Go.
	for c0 := 0; c0+nr <= n; c0 += nr {
		packBPanel16(dst[(c0/nr)*nr*kp:], sums[c0:c0+nr], b[j0+c0:], ldb, full, flip4)
	}
	packBGroups(dst, sums, b, ldb, n/nr*nr, n, j0, full, kp, flip4)
	// The last, partial group: its missing rows stay 0.
	for p := full * kg; p < k; p++ {
		row := b[p*ldb+j0 : p*ldb+j1]
		for c, v := range row {
			s := v ^ flip
			sums[c] += int32(int8(s))
			dst[(c/nr)*nr*kp+full*nr*kg+(c%nr)*kg+p%kg] = s
		}
	}
}

// packBPanel16Func packs the whole groups of one full panel of 16 columns of a non-transposed B
// (b at the panel's first column of row 0): dst[g*nr*kg+c*kg+q] = B[g*kg+q][c] ^ flip, and sums[c]
// receives Σ_p of column c's stored (s8) values over those groups.
type packBPanel16Func func(dst []byte, sums []int32, b []byte, ldb, groups int, flip4 uint32)

// packBPanel16Go is the pure-Go panel packer, the twin of the assembly ones.
func packBPanel16Go(dst []byte, sums []int32, b []byte, ldb, groups int, flip4 uint32) {
	clear(sums[:nr])
	packBGroups(dst, sums, b, ldb, 0, nr, 0, groups, groups*kg, flip4)
}

// packBGroups packs the first groups whole groups of columns c0..c1-1 (counted from j0) of a
// non-transposed B into dst's panels (K padded to kp), adding each column's stored values to sums.
func packBGroups(dst []byte, sums []int32, b []byte, ldb, c0, c1, j0, groups, kp int, flip4 uint32) {
	if c0 >= c1 {
		return
	}
	for g := 0; g < groups; g++ {
		p := g * kg
		r0, r1 := b[p*ldb+j0+c0:p*ldb+j0+c1], b[(p+1)*ldb+j0+c0:(p+1)*ldb+j0+c1]
		r2, r3 := b[(p+2)*ldb+j0+c0:(p+2)*ldb+j0+c1], b[(p+3)*ldb+j0+c0:(p+3)*ldb+j0+c1]
		r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
		for i, v0 := range r0 {
			c := c0 + i
			w := (uint32(v0) | uint32(r1[i])<<8 | uint32(r2[i])<<16 | uint32(r3[i])<<24) ^ flip4
			binary.LittleEndian.PutUint32(dst[(c/nr)*nr*kp+g*nr*kg+(c%nr)*kg:], w)
			sums[c] += int32(int8(w)) + int32(int8(w>>8)) + int32(int8(w>>16)) + int32(int8(w>>24))
		}
	}
}

// packBPanel16Variants are the panel packers by instruction-set level; packBPanel16 is the one packB
// runs.
var (
	packBPanel16Variants = append([]isa.Variant[packBPanel16Func]{{Level: isa.PureGo, Name: "pure Go B panel packing", Fn: packBPanel16Go}},
		asmPackBVariants()...)
	packBPanel16 = isa.Pick(packBPanel16Variants...).Fn
)

// PackedBytes is the memory the panels and row sums hold (ops.PackedSizer, for the runtime's statistics).
func (p *PackedA) PackedBytes() int64 { return int64(len(p.data)) + int64(len(p.rowSums))*4 }

// PackedBytes is the memory the panels and column sums hold (ops.PackedSizer).
func (p *PackedB) PackedBytes() int64 { return int64(len(p.data)) + int64(len(p.colSums))*4 }
