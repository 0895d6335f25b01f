package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSgemmParMatchesNaive checks the banded products (cut by rows or by
// columns, b transposed or not, beta 0 and 1, strided operands) against
// plain loops.
func TestSgemmParMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, s := range []struct{ m, n, k int }{
		{1, 4096, 600}, {3, 1000, 700}, {8, 300, 1000}, {500, 64, 100}, {1000, 33, 129}, {17, 17, 17}, {2, 2, 3},
	} {
		for _, transB := range []bool{false, true} {
			for _, beta := range []float32{0, 1} {
				lda, ldb, ldc := s.k+3, s.n+5, s.n+7
				if transB {
					ldb = s.k + 2
				}
				a := randSlice(r, s.m*lda)
				bRows := s.k
				if transB {
					bRows = s.n
				}
				b := randSlice(r, bRows*ldb)
				c0 := randSlice(r, s.m*ldc)
				want := make([]float64, len(c0))
				for i := range s.m {
					for j := range s.n {
						sum := float64(beta) * float64(c0[i*ldc+j])
						for l := range s.k {
							var bv float32
							if transB {
								bv = b[j*ldb+l]
							} else {
								bv = b[l*ldb+j]
							}
							sum += float64(a[i*lda+l]) * float64(bv)
						}
						want[i*ldc+j] = sum
					}
				}
				for _, threaded := range []bool{false, true} {
					c := append([]float32(nil), c0...)
					withScheduler(threaded, func() { sgemmPar(transB, s.m, s.n, s.k, a, lda, b, ldb, beta, c, ldc) })
					name := fmt.Sprintf("%+v transB=%v beta=%v threaded=%v", s, transB, beta, threaded)
					for i := range s.m {
						for j := range ldc {
							got := float64(c[i*ldc+j])
							if j >= s.n { // padding between rows: untouched
								if c[i*ldc+j] != c0[i*ldc+j] {
									t.Fatalf("%s: wrote c[%d][%d] beyond column %d", name, i, j, s.n)
								}
								continue
							}
							if d := got - want[i*ldc+j]; d > 1e-6*float64(s.k)+1e-6 || d < -1e-6*float64(s.k)-1e-6 {
								t.Fatalf("%s: c[%d][%d] = %v, want %v", name, i, j, got, want[i*ldc+j])
							}
						}
					}
				}
			}
		}
	}
}
