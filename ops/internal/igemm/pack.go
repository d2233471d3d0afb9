package igemm

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
	clear(dst[:ceilDiv(m, mr)*mr*kp])
	for i := 0; i < m; i++ {
		panel := dst[(i/mr)*mr*kp:]
		row := a[i*lda : i*lda+k]
		r := i % mr
		var sum int32
		for p, v := range row {
			u := v ^ flip
			sum += int32(u)
			panel[(p/kg)*mr*kg+r*kg+p%kg] = u
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
	n := j1 - j0
	clear(dst[:ceilDiv(n, nr)*nr*kp])
	clear(sums[:n])
	if k == 0 {
		return
	}
	if trans {
		for c := 0; c < n; c++ {
			panel := dst[(c/nr)*nr*kp+(c%nr)*kg:]
			col := b[(j0+c)*ldb : (j0+c)*ldb+k]
			var sum int32
			for p, v := range col {
				s := v ^ flip
				sum += int32(int8(s))
				panel[(p/kg)*nr*kg+p%kg] = s
			}
			sums[c] = sum
		}
		return
	}
	for p := 0; p < k; p++ {
		row := b[p*ldb+j0 : p*ldb+j1]
		base := (p/kg)*nr*kg + p%kg
		for c, v := range row {
			s := v ^ flip
			sums[c] += int32(int8(s))
			dst[(c/nr)*nr*kp+base+(c%nr)*kg] = s
		}
	}
}
