package ops

import (
	"runtime"
	"sync"
	"sync/atomic"

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
// up to GOMAXPROCS goroutines, each range at least grain items long (but
// the last). It returns when all calls have returned.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	parallelForW(n, grain, func(_, lo, hi int) { fn(lo, hi) })
}

// parallelForW is parallelFor that also tells fn which goroutine calls it:
// w < parallelWorkers(n, grain), and calls with the same w run one after
// the other, so fn can use per-worker scratch space.
//
// The work is cut into about 4 ranges per goroutine, which the goroutines
// take in turn: on a shared machine, a goroutine whose core is taken away
// for a while then delays the others by one range, not by its whole share.
func parallelForW(n, grain int, fn func(w, lo, hi int)) {
	workers := parallelWorkers(n, grain)
	if workers == 0 {
		return
	}
	if workers == 1 {
		fn(0, 0, n)
		return
	}
	chunk := max(grain, (n+4*workers-1)/(4*workers))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				hi := int(next.Add(int64(chunk)))
				lo := hi - chunk
				if lo >= n {
					return
				}
				fn(w, lo, min(hi, n))
			}
		}()
	}
	wg.Wait()
}

// parallelWorkers is the number of goroutines parallelFor(n, grain, ...)
// uses: GOMAXPROCS, or fewer so that each has at least grain items.
func parallelWorkers(n, grain int) int {
	if n <= 0 {
		return 0
	}
	grain = max(grain, 1)
	return min(runtime.GOMAXPROCS(0), (n+grain-1)/grain)
}

// sgemmPar is sgemm using every core: when the BLAS does not thread its
// calls (see blasThreaded), the product is cut into bands of rows of c (or
// of columns, when c has too few rows), about 4 per goroutine, one sgemm
// each, which GOMAXPROCS goroutines take in turn. Products too small to be
// worth a goroutine run as one call.
func sgemmPar(transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const minFlops = 1 << 21 // per band
	workers := runtime.GOMAXPROCS(0)
	flops := 2 * float64(m) * float64(n) * float64(k)
	if blasThreaded || workers == 1 || flops < 2*minFlops {
		sgemm(transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	bands := min(4*workers, int(flops/minFlops))
	const align = 16 // keep bands a multiple of the BLAS kernels' blocks
	if m >= bands*4*align || (m >= workers*4*align && m >= n) {
		rows := (m + bands - 1) / bands
		rows = (rows + align - 1) / align * align
		parallelFor((m+rows-1)/rows, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				r0 := i * rows
				r1 := min(r0+rows, m)
				sgemm(transB, r1-r0, n, k, a[r0*lda:], lda, b, ldb, beta, c[r0*ldc:], ldc)
			}
		})
		return
	}
	cols := (n + bands - 1) / bands
	cols = (cols + align - 1) / align * align
	parallelFor((n+cols-1)/cols, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c0 := i * cols
			c1 := min(c0+cols, n)
			bj := b[c0:] // columns c0.. of b (k, n)
			if transB {
				bj = b[c0*ldb:] // rows c0.. of b (n, k)
			}
			sgemm(transB, m, c1-c0, k, a, lda, bj, ldb, beta, c[c0:], ldc)
		}
	})
}

// freeList keeps released values for reuse, at most max of them (surplus
// ones are dropped to the garbage collector). Unlike a sync.Pool it keeps
// them across garbage collections and hands them to any goroutine: a
// sync.Pool empties at every other GC and keeps an item put from one
// processor out of reach of another, which for scratch buffers of tens of
// MiB means allocating and page-faulting them again, and a heap that grows
// with every lost buffer.
type freeList[T any] struct {
	mu    sync.Mutex
	items []T
}

func (f *freeList[T]) get() (x T, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		x = f.items[n-1]
		var zero T
		f.items[n-1] = zero // drop the list's reference
		f.items = f.items[:n-1]
		return x, true
	}
	return x, false
}

// put keeps x unless GOMAXPROCS values (the most that run at once in
// steady state) are already kept.
func (f *freeList[T]) put(x T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) < runtime.GOMAXPROCS(0) {
		f.items = append(f.items, x)
	}
}

// scratch holds float32 scratch slices for the kernels, so that repeated
// calls do not allocate.
var scratch freeList[*[]float32]

// getScratch returns a slice of n values (contents arbitrary), reused when
// possible. Give it back with putScratch.
func getScratch(n int) *[]float32 {
	if p, ok := scratch.get(); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
		// Too small for this call: replace it.
	}
	s := make([]float32, n)
	return &s
}

func putScratch(p *[]float32) { scratch.put(p) }
