package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randSlice returns n values uniform in [-1, 1) from a seeded generator.
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// maxAbsDiff returns the largest |a[i]-b[i]| and its index; it fails the
// test if the lengths differ. NaN differences count as +Inf.
func maxAbsDiff(t *testing.T, got, want []float32) (float64, int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("length %d, want %d", len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst || at < 0 {
			worst, at = d, i
		}
	}
	return worst, at
}

// expectClose fails unless every |got-want| <= tol.
func expectClose(t *testing.T, what string, got, want []float32, tol float64) float64 {
	t.Helper()
	d, at := maxAbsDiff(t, got, want)
	if d > tol {
		t.Errorf("%s: max abs error %.3g at index %d (got %v, want %v), tolerance %.3g", what, d, at, got[at], want[at], tol)
	}
	return d
}

// withBudget runs f with im2colBudget set to b floats.
func withBudget(b int, f func()) {
	old := im2colBudget
	im2colBudget = b
	defer func() { im2colBudget = old }()
	f()
}

// withScheduler runs f with blasThreaded set to threaded, which selects
// conv2DIm2col's serial-tile (true) or concurrent-tile (false) schedule
// whatever the backend.
func withScheduler(threaded bool, f func()) {
	old := blasThreaded
	blasThreaded = threaded
	defer func() { blasThreaded = old }()
	f()
}
