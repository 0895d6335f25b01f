package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/vgg16"
)

func init() { register(benchCommand) }

// vgg16ConvGFLOP is the work of VGG16's 13 convolutions on one 224×224
// image in GFLOP, a multiply-add counted as 2 (15.47 G multiply-adds).
const vgg16ConvGFLOP = 30.94

// benchResult is what bench prints (--json: as one JSON object).
type benchResult struct {
	Impl           string   `json:"impl"` // "go"
	Batch          int      `json:"batch"`
	Repeat         int      `json:"repeat"`
	MsPerImage     float64  `json:"ms_per_image"`        // best run
	MedianMs       float64  `json:"median_ms_per_image"` // median run
	ImagesPerSec   float64  `json:"images_per_s"`        // from the best run
	ConvGFLOPs     float64  `json:"conv_gflops"`         // convolution work / best time
	CPUMsPerImage  float64  `json:"cpu_ms_per_image"`    // user+system CPU time of the timed runs / images
	Params         int      `json:"params"`
	WeightBytes    int64    `json:"weight_bytes"`
	Weights        string   `json:"weights"`          // "random" or the file
	LoadSeconds    *float64 `json:"load_s,omitempty"` // with --weights
	RSSAfterLoad   float64  `json:"rss_after_load_mib"`
	PeakRSS        float64  `json:"peak_rss_mib"`
	PeakRSSOverWts float64  `json:"peak_rss_over_weights"`
	Backend        string   `json:"backend"`
	GOMAXPROCS     int      `json:"gomaxprocs"`
	GoVersion      string   `json:"go"`
	GCBetween      bool     `json:"gc_between_passes"`
}

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "time VGG16's forward pass (224×224, with the classifier) and report ms per image and peak memory",
		Description: `Builds VGG16 with its classifier, gives it Keras's random initialisation
(seeded; no file needed) or loads --weights FILE (and times the load), feeds
it a batch of random 224×224×3 images, runs --warmup untimed passes, then
--repeat timed ones. It prints the best and median time per image, the
convolutions' effective GFLOP/s (30.94 GFLOP per image, a multiply-add
counted as 2), the CPU time per image, the peak resident memory (VmHWM)
next to the weights' size, and the compute backend. Garbage is collected
before each timed pass (untimed), so the peak RSS is one pass's working set;
--gc=false runs the passes back to back, as a service would, and leaves
collection to Go's collector (GOGC, GOMEMLIMIT).
GOMAXPROCS and OPENBLAS_NUM_THREADS apply as usual (see PERF.md);
scripts/bench-vs-pytorch.sh compares it with PyTorch.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "batch", Value: 1, Usage: "images per forward pass"},
			&cli.IntFlag{Name: "repeat", Value: 5, Usage: "timed passes"},
			&cli.IntFlag{Name: "warmup", Value: 1, Usage: "untimed passes first (buffers, caches)"},
			&cli.StringFlag{Name: "weights", Usage: "load this VGG16 weights `FILE` (with the top, e.g. Keras's ImageNet file) instead of random weights, and time the load"},
			&cli.BoolFlag{Name: "gc", Value: true, Usage: "collect garbage before each timed pass (untimed); --gc=false: back to back"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		},
		Action: runBench,
	}
}

func runBench(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments, got %q", c.Args().Slice())
	}
	batch, repeat, warmup := c.Int("batch"), c.Int("repeat"), c.Int("warmup")
	switch {
	case batch < 1 || batch > 256:
		return fmt.Errorf("--batch must be between 1 and 256, got %d", batch)
	case repeat < 1 || repeat > 10000:
		return fmt.Errorf("--repeat must be between 1 and 10000, got %d", repeat)
	case warmup < 0 || warmup > 10000:
		return fmt.Errorf("--warmup must be between 0 and 10000, got %d", warmup)
	}
	res := benchResult{Impl: "go", Batch: batch, Repeat: repeat, Backend: ops.Backend(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Weights: "random",
		GCBetween: c.Bool("gc")}

	graph.ResetNames()
	var m *graph.Model
	if path := c.String("weights"); path != "" {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("--weights: %w", err)
		}
		start := time.Now()
		var err error
		if m, err = vgg16.Load(vgg16.Options{IncludeTop: true}, path); err != nil {
			return err
		}
		s := time.Since(start).Seconds()
		res.LoadSeconds, res.Weights = &s, path
	} else {
		var err error
		if m, err = vgg16.New(vgg16.Options{IncludeTop: true}); err != nil {
			return err
		}
		vgg16.InitRandom(m, 1)
	}
	res.Params = m.CountParams()
	res.WeightBytes = int64(res.Params) * 4
	res.RSSAfterLoad = procStatusMiB("VmRSS")

	x := ops.New(batch, 224, 224, 3)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range x.Data { // the range of caffe-preprocessed pixels
		x.Data[i] = float32(r.Float64()*255 - 128)
	}
	for range warmup {
		if _, err := m.Predict(x); err != nil {
			return err
		}
	}
	times := make([]float64, repeat)
	cpu := 0.0
	for i := range times {
		// Collect the previous pass's garbage (untimed), so that the peak
		// RSS is one pass's working set rather than however much garbage
		// Go's collector lets accumulate before its next cycle (with
		// GOGC=100 it waits for the heap to double, +553 MB here).
		if res.GCBetween {
			runtime.GC()
		}
		cpu0 := cpuSeconds()
		start := time.Now()
		out, err := m.Predict(x)
		if err != nil {
			return err
		}
		times[i] = time.Since(start).Seconds() / float64(batch)
		cpu += cpuSeconds() - cpu0
		if len(out) != 1 || len(out[0].Data) != batch*1000 {
			return errors.New("bench: unexpected output shape") // a bug
		}
	}
	res.CPUMsPerImage = round2(cpu * 1e3 / float64(repeat*batch))
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	best, median := sorted[0], sorted[len(sorted)/2]
	res.MsPerImage, res.MedianMs = round2(best*1e3), round2(median*1e3)
	res.ImagesPerSec = round2(1 / best)
	res.ConvGFLOPs = round2(vgg16ConvGFLOP / best)
	res.PeakRSS = procStatusMiB("VmHWM")
	if res.PeakRSS > 0 {
		res.PeakRSSOverWts = round2(res.PeakRSS * (1 << 20) / float64(res.WeightBytes))
	}

	w := c.App.Writer
	if c.Bool("json") {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
		return nil
	}
	fmt.Fprintf(w, "VGG16 forward pass, 224×224×3 with the classifier, batch %d: %d timed runs after %d warm-up\n", batch, repeat, warmup)
	if res.LoadSeconds != nil {
		fmt.Fprintf(w, "weights:  %s, %.1f MB, loaded in %.3f s\n", res.Weights, float64(res.WeightBytes)/1e6, *res.LoadSeconds)
	} else {
		fmt.Fprintf(w, "weights:  random (Keras's initialisation, seed 1), %.1f MB\n", float64(res.WeightBytes)/1e6)
	}
	fmt.Fprintf(w, "backend:  %s; GOMAXPROCS %d; %s\n", res.Backend, res.GOMAXPROCS, res.GoVersion)
	fmt.Fprintf(w, "time:     %.1f ms/image best, %.1f median (%.2f images/s; convolutions at %.0f GFLOP/s effective); CPU %.1f ms/image\n",
		res.MsPerImage, res.MedianMs, res.ImagesPerSec, res.ConvGFLOPs, res.CPUMsPerImage)
	if res.PeakRSS > 0 {
		gc := "garbage collected before each pass"
		if !res.GCBetween {
			gc = "passes back to back"
		}
		fmt.Fprintf(w, "memory:   peak RSS %.0f MiB = %.2f × the weights (RSS after loading %.0f MiB; %s)\n",
			res.PeakRSS, res.PeakRSSOverWts, res.RSSAfterLoad, gc)
	}
	return nil
}

// cpuSeconds returns the process's user+system CPU time from
// /proc/self/stat (Linux; 0 elsewhere), in seconds.
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name: state is field 3,
	// utime and stime are fields 14 and 15, in clock ticks of 1/100 s
	// (USER_HZ, fixed at 100 in Linux's user-space ABI).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / 100
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// procStatusMiB returns a field of /proc/self/status ("VmHWM", "VmRSS") in
// MiB, or -1 where there is no such file (not Linux).
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}
