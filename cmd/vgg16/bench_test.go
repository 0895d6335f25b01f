package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBench runs one timed VGG16 pass (random weights) and checks the
// report: the JSON fields, the parameter count of Keras's VGG16, and that
// the times, rates and memory are consistent with each other.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("a full VGG16 pass (553 MB of weights)")
	}
	out := mustRun(t, "bench", "--repeat", "1", "--warmup", "0", "--json")
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --json printed %q: %v", out, err)
	}
	if r.Impl != "go" || r.Batch != 1 || r.Repeat != 1 || r.Weights != "random" || r.LoadSeconds != nil || !r.GCBetween {
		t.Errorf("bench --json: %+v", r)
	}
	if r.Params != 138357544 || r.WeightBytes != 4*138357544 {
		t.Errorf("params %d (%d bytes), want Keras's 138357544", r.Params, r.WeightBytes)
	}
	if r.MsPerImage <= 0 || r.MedianMs < r.MsPerImage {
		t.Errorf("times: best %v, median %v", r.MsPerImage, r.MedianMs)
	}
	if got := r.ConvGFLOPs * r.MsPerImage / 1e3; got < 30.9*0.99 || got > 30.94*1.01 {
		t.Errorf("GFLOP/s %v × %v ms = %v GFLOP, want 30.94", r.ConvGFLOPs, r.MsPerImage, got)
	}
	if r.PeakRSS > 0 && r.PeakRSS*(1<<20) < float64(r.WeightBytes) {
		t.Errorf("peak RSS %v MiB is below the weights' %d bytes", r.PeakRSS, r.WeightBytes)
	}
	if !strings.Contains(r.Backend, "BLAS") || r.GOMAXPROCS < 1 {
		t.Errorf("backend %q, GOMAXPROCS %d", r.Backend, r.GOMAXPROCS)
	}

	text := mustRun(t, "bench", "--repeat", "1", "--warmup", "0", "--batch", "2", "--gc=false")
	for _, want := range []string{"batch 2", "ms/image best", "peak RSS", "random", "passes back to back"} {
		if !strings.Contains(text, want) {
			t.Errorf("bench output lacks %q:\n%s", want, text)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--batch", "0"}, "--batch must be between 1 and 256"},
		{[]string{"bench", "--repeat", "0"}, "--repeat must be between 1 and 10000"},
		{[]string{"bench", "--warmup", "-1"}, "--warmup must be between 0 and 10000"},
		{[]string{"bench", "extra"}, "bench takes no arguments"},
		{[]string{"bench", "--weights", "/nonexistent/vgg16.h5"}, "--weights"},
	} {
		_, errs, st := runCLI(t, c.args...)
		if st != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("vgg16 %q: status %d, stderr %q; want status 1 and %q", c.args, st, errs, c.want)
		}
	}
}
