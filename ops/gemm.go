package ops

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// backendName names the BLAS implementation in use; blas_openblas.go
// overrides it when OpenBLAS is linked in.
var backendName = "gonum pure Go (gonum.org/v1/gonum/blas/gonum)"

// blasThreaded reports whether one sgemm call already uses all cores
// (OpenBLAS), so that callers should not run several at once.
var blasThreaded = false

// Backend describes the matrix-multiply implementation the kernels use:
// OpenBLAS through cgo by default, gonum's pure-Go BLAS with -tags purego
// (or when cgo is disabled).
func Backend() string { return backendName }

// sgemm computes c = a·op(b) + beta·c for row-major matrices:
//
//	a (m, k) with row stride lda
//	b (k, n) with row stride ldb, or, when transB, (n, k) used transposed
//	c (m, n) with row stride ldc
func sgemm(transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 { // empty sum: c = beta·c
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	tB := blas.NoTrans
	if transB {
		tB = blas.Trans
	}
	blas32.Implementation().Sgemm(blas.NoTrans, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// fillRows sets each of the rows rows of c (row stride n) to bias, or to
// zero when bias is nil.
func fillRows(c []float32, rows, n int, bias []float32) {
	if bias == nil {
		clear(c[:rows*n])
		return
	}
	for i := 0; i < rows; i++ {
		copy(c[i*n:(i+1)*n], bias)
	}
}

// parallelFor calls fn on disjoint ranges [lo, hi) covering [0, n), using
// up to GOMAXPROCS goroutines, each given at least grain items. It returns
// when all calls have returned.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	workers := min(runtime.GOMAXPROCS(0), (n+grain-1)/grain)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
