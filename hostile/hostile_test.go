// Package hostile runs hostile inputs (internal/malformed) through the
// library and through the vgg16 command, and checks that every one ends in
// a clear error or a success: no panic, no crash, no hang, no allocation
// beyond the budgets below, and no file written outside --out.
//
// Budgets, per input:
//
//   - library (in-process, one call at a time): at most libAllocBudget bytes
//     allocated on the Go heap (runtime.MemStats.TotalAlloc) by one loader
//     call; C allocations (libhdf5) are bounded by the CLI's limits below;
//   - CLI (one process per command): at most cliRSSBudget peak resident
//     memory, at most 2 s of CPU time, and an address-space limit
//     (RLIMIT_AS, cliASLimit, set with prlimit where it is installed) that
//     turns any allocation above it into a failed run;
//   - every run: no "panic", "goroutine" dump, "fatal error" or internal
//     error in the output; exit status 0 or 1.
package hostile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kerago/kerago/internal/malformed"
	"github.com/kerago/kerago/internal/reftest"
	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/preprocess"
)

// root is the repository root, absolute: CLI runs have their own working
// folders.
var root = func() string {
	r, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	return r
}()

const (
	libAllocBudget = 256 << 20
	cliRSSBudget   = 512 << 20
	cliASLimit     = 6 << 30
	cpuLimit       = 2 * time.Second
	wallLimit      = 20 * time.Second // a run is killed (and the test fails) after this
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
	cliDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

// buildCLI builds cmd/vgg16 once per test binary.
func buildCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		cliDir, cliErr = os.MkdirTemp("", "hostile-cli-")
		if cliErr != nil {
			return
		}
		cliPath = filepath.Join(cliDir, "vgg16")
		cmd := exec.Command("go", "build", "-o", cliPath, "./cmd/vgg16")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("go build ./cmd/vgg16: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// cases generates the committed cases and, when the shared corpus is
// present, its cases too.
func cases(t *testing.T) ([]malformed.Case, malformed.Sources) {
	t.Helper()
	src, err := malformed.Committed(root)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := malformed.Generate(t.TempDir(), src)
	if err != nil {
		t.Fatal(err)
	}
	corpus := filepath.Join(root, "..", "shared", "keras-corpus")
	if csrc, err := malformed.Corpus(corpus); err != nil {
		t.Logf("shared corpus cases skipped: %v", err)
	} else {
		csrc.NpyModel = src.NpyModel
		more, err := malformed.Generate(t.TempDir(), csrc)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, more...)
	}
	return cs, src
}

// libResult is what the library did with a case.
type libResult struct {
	loadErr    error // keras.Load / LoadConfig / LoadImg
	inspectErr error // keras.Inspect (models and configs)
	dur        time.Duration
	alloc      uint64
	op         string // the slowest or largest call, for reports
}

// measure runs fn, turning a panic into a test failure, and returns its
// duration and Go heap allocation.
func measure(t *testing.T, name, op string, budget uint64, fn func() error) (err error, d time.Duration, alloc uint64) {
	t.Helper()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s: %s panicked: %v", name, op, r)
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		err = fn()
	}()
	d = time.Since(start)
	runtime.ReadMemStats(&b)
	alloc = b.TotalAlloc - a.TotalAlloc
	if alloc > budget {
		t.Errorf("%s: %s allocated %d MB, over the budget of %d MB", name, op, alloc>>20, budget>>20)
	}
	return err, d, alloc
}

// checkErr checks an error's text: it names the input and is not a
// runtime failure.
func checkErr(t *testing.T, c malformed.Case, op string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, bad := range []string{"panic", "runtime error", "goroutine "} {
		if strings.Contains(msg, bad) {
			t.Errorf("%s: %s: error looks like a crash: %v", c.Name, op, err)
		}
	}
	named := strings.Contains(msg, filepath.Base(c.Path))
	if c.Kind == malformed.Config {
		named = named || strings.Contains(msg, filepath.Base(c.Source.Weights)) // a config that does not fit its weights
	}
	if c.Kind != malformed.Npy && !named {
		t.Errorf("%s: %s: error does not name the file %s: %v", c.Name, op, filepath.Base(c.Path), err)
	}
}

func want(t *testing.T, c malformed.Case, op string, err error) {
	t.Helper()
	switch {
	case c.Want == malformed.Fails && err == nil:
		t.Errorf("%s (%s): %s succeeded, want an error", c.Name, c.Note, op)
	case c.Want == malformed.Works && err != nil:
		t.Errorf("%s (%s): %s: %v", c.Name, c.Note, op, err)
	}
	checkErr(t, c, op, err)
}

// runLibrary runs one case through the library.
func runLibrary(t *testing.T, c malformed.Case) libResult {
	var res libResult
	budget := uint64(libAllocBudget)
	track := func(op string, fn func() error) error {
		err, d, a := measure(t, c.Name, op, budget, fn)
		if d > res.dur {
			res.dur, res.op = d, op
		}
		res.alloc = max(res.alloc, a)
		return err
	}
	switch c.Kind {
	case malformed.Model:
		var l *keras.Loaded
		res.loadErr = track("keras.Load", func() (err error) {
			l, err = keras.Load(c.Path, keras.LoadOptions{})
			return err
		})
		want(t, c, "keras.Load", res.loadErr)
		if l != nil && c.Source != nil && len(c.Source.Inputs) > 0 {
			// A model that loads must run (or refuse its input clearly).
			var xs []*ops.Tensor
			for _, p := range c.Source.Inputs {
				x, err := reftest.ReadNpy(p)
				if err != nil {
					t.Fatal(err)
				}
				xs = append(xs, x)
			}
			err := track("Predict", func() error { _, err := l.Model.Predict(xs...); return err })
			if err != nil && c.Want == malformed.Works {
				t.Errorf("%s: Predict: %v", c.Name, err)
			}
		}
		res.inspectErr = track("keras.Inspect", func() error { _, err := keras.Inspect(c.Path); return err })
		checkErr(t, c, "keras.Inspect", res.inspectErr)
		if res.loadErr == nil && res.inspectErr != nil {
			t.Errorf("%s: keras.Load works but keras.Inspect fails: %v", c.Name, res.inspectErr)
		}
		if c.Source != nil {
			// The same file as weights for the source's architecture.
			m, err := keras.LoadModel(c.Source.Path)
			if err != nil {
				t.Fatalf("source %s: %v", c.Source.Path, err)
			}
			err = track("keras.LoadWeights", func() error { return keras.LoadWeights(m, c.Path, keras.LoadWeightsOptions{}) })
			checkErr(t, c, "keras.LoadWeights", err)
			if c.Want == malformed.Works && err != nil {
				t.Errorf("%s: keras.LoadWeights: %v", c.Name, err)
			}
		}
	case malformed.Config:
		res.loadErr = track("keras.LoadConfig", func() error {
			_, err := keras.LoadConfig(c.Path, keras.LoadOptions{MaxParamBytes: libAllocBudget / 2})
			return err
		})
		want(t, c, "keras.LoadConfig", res.loadErr)
		err := track("keras.LoadModelFromJSON", func() error { _, err := keras.LoadModelFromJSON(c.Path, c.Source.Weights); return err })
		want(t, c, "keras.LoadModelFromJSON", err)
		// Inspect builds a config file's model without weights to bound it:
		// its budget is the documented parameter budget.
		budget = keras.DefaultMaxParamBytes + libAllocBudget
		res.inspectErr = track("keras.Inspect", func() error { _, err := keras.Inspect(c.Path); return err })
		checkErr(t, c, "keras.Inspect", res.inspectErr)
	case malformed.Image:
		var im *preprocess.Image
		res.loadErr = track("preprocess.LoadImg", func() (err error) {
			im, err = preprocess.LoadImg(c.Path, preprocess.LoadImgOptions{})
			return err
		})
		want(t, c, "preprocess.LoadImg", res.loadErr)
		if im != nil {
			if im.Width <= 0 || im.Height <= 0 || len(im.Pix) != im.Width*im.Height*im.Channels() {
				t.Errorf("%s: LoadImg gave a %dx%d %s image with %d bytes", c.Name, im.Width, im.Height, im.Mode, len(im.Pix))
			}
		}
		// The CLI's way: resized to the model's 8x8 input, nearest.
		for _, mode := range []string{"rgb", "grayscale", "rgba"} {
			opts := preprocess.LoadImgOptions{ColorMode: mode, TargetSize: [2]int{8, 8}, Interpolation: "nearest"}
			err := track("preprocess.LoadImg "+mode, func() error { _, err := preprocess.LoadImg(c.Path, opts); return err })
			checkErr(t, c, "LoadImg "+mode, err)
			if (err == nil) != (res.loadErr == nil) {
				t.Errorf("%s: LoadImg %s 8x8 gives %v, LoadImg gives %v", c.Name, mode, err, res.loadErr)
			}
		}
		if st, err := os.Stat(c.Path); err == nil && st.Mode().IsRegular() {
			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			err = track("preprocess.DecodeImg", func() error { _, err := preprocess.DecodeImg(data, preprocess.LoadImgOptions{}); return err })
			if (err == nil) != (res.loadErr == nil) {
				t.Errorf("%s: DecodeImg gives %v, LoadImg gives %v", c.Name, err, res.loadErr)
			}
		}
	case malformed.Npy:
		// Only the CLI reads .npy inputs.
	}
	return res
}

// cliRun is one command run on a case.
type cliRun struct {
	c      malformed.Case
	args   []string
	expect func(status int) error // nil: 0 or 1
}

type cliResult struct {
	run       cliRun
	status    int
	stderr    string
	wall, cpu time.Duration
	rss       int64 // bytes
	err       error
}

// cliRuns lists the commands each case goes through, with what the library
// did as the oracle: a command that loads the model fails exactly when
// keras.Load fails, and so on.
//
// Every case goes through every command that takes its kind of input,
// except that a model file the library refuses goes through inspect,
// summary and one of predict, featuremap and activations in turn (the
// three fail in the same loader call): that keeps the run under a minute.
// HOSTILE_ALL_COMMANDS=1 runs every command on every input.
func cliRuns(i int, c malformed.Case, lib libResult, src malformed.Sources, goodImage string, all bool) []cliRun {
	sameAs := func(what string, err error) func(int) error {
		return func(s int) error {
			if (s == 0) != (err == nil) {
				return fmt.Errorf("exit status %d, but %s gives %v", s, what, err)
			}
			return nil
		}
	}
	failsIf := func(what string, err error) func(int) error {
		return func(s int) error {
			if err != nil && s == 0 {
				return fmt.Errorf("exit status 0, but %s fails: %v", what, err)
			}
			return nil
		}
	}
	status := func(wantOK bool) func(int) error {
		return func(s int) error {
			if (s == 0) != wantOK {
				return fmt.Errorf("exit status %d, want success %v", s, wantOK)
			}
			return nil
		}
	}
	out := "@OUT@"
	switch c.Kind {
	case malformed.Model:
		layer, inputs := "conv", []string{src.Npy}
		runnable := false
		if c.Source != nil && c.Source.Layer != "" && len(c.Source.Inputs) > 0 {
			layer, inputs, runnable = c.Source.Layer, c.Source.Inputs, true
		}
		runs := []cliRun{
			{c, []string{"inspect", c.Path}, sameAs("keras.Inspect", lib.inspectErr)},
			{c, []string{"summary", "--model", c.Path}, sameAs("keras.Load", lib.loadErr)},
			{c, []string{"predict", "--model", c.Path, "--image", goodImage}, failsIf("keras.Load", lib.loadErr)},
			{c, []string{"featuremap", "--model", c.Path, "--image", goodImage, "--layer", layer, "--out", out}, failsIf("keras.Load", lib.loadErr)},
		}
		act := []string{"activations", "--model", c.Path}
		for _, in := range inputs {
			act = append(act, "--input", in)
		}
		act = append(act, "--out", filepath.Join(out, "acts.h5"))
		runs = append(runs, cliRun{c, act, failsIf("keras.Load", lib.loadErr)})
		if runnable && c.Want == malformed.Works {
			runs[4].expect = status(true)
			if len(inputs) == 1 {
				runs[3].expect = status(true)
			}
		}
		if lib.loadErr != nil && !all {
			runs = append(runs[:2], runs[2+i%3])
		}
		return runs
	case malformed.Config:
		return []cliRun{
			{c, []string{"inspect", c.Path}, sameAs("keras.Inspect", lib.inspectErr)},
			{c, []string{"summary", "--model", c.Path}, status(false)},
		}
	case malformed.Image:
		m := c.Source
		runs := []cliRun{
			{c, []string{"predict", "--model", m.Path, "--image", c.Path}, sameAs("preprocess.LoadImg", lib.loadErr)},
			{c, []string{"featuremap", "--model", m.Path, "--image", c.Path, "--layer", m.Layer, "--out", out}, sameAs("preprocess.LoadImg", lib.loadErr)},
		}
		if lib.loadErr != nil && !all {
			runs = runs[i%2 : i%2+1]
		}
		return runs
	case malformed.Npy:
		var e func(int) error
		switch c.Want {
		case malformed.Works:
			e = status(true)
		case malformed.Fails:
			e = status(false)
		}
		return []cliRun{{c, []string{"activations", "--model", c.Source.Path, "--input", c.Path, "--out", filepath.Join(out, "acts.h5")}, e}}
	}
	return nil
}

// worker runs commands with its own working, home, temporary and output
// folders, and checks after each run that only the output folder changed.
type worker struct {
	dir, cwd, home, tmp, out string
	prlimit                  string
}

func newWorker(dir string) (*worker, error) {
	w := &worker{dir: dir, cwd: filepath.Join(dir, "cwd"), home: filepath.Join(dir, "home"), tmp: filepath.Join(dir, "tmp"), out: filepath.Join(dir, "out")}
	for _, d := range []string{w.cwd, w.home, w.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	w.prlimit, _ = exec.LookPath("prlimit")
	return w, nil
}

func (w *worker) run(bin string, r cliRun) cliResult {
	res := cliResult{run: r}
	os.RemoveAll(w.out)
	if err := os.MkdirAll(w.out, 0o755); err != nil {
		res.err = err
		return res
	}
	args := slices.Clone(r.args)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "@OUT@", w.out)
	}
	name, argv := bin, append([]string{}, args...)
	if w.prlimit != "" {
		name, argv = w.prlimit, append([]string{fmt.Sprintf("--as=%d", int64(cliASLimit)), "--", bin}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wallLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Dir = w.cwd
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.home, "TMPDIR=" + w.tmp, "OPENBLAS_NUM_THREADS=1", "KERAS_HOME=" + filepath.Join(w.home, ".keras")}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = nil
	start := time.Now()
	err := cmd.Run()
	res.wall = time.Since(start)
	res.stderr = stderr.String()
	if cmd.ProcessState != nil {
		res.status = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.rss = ru.Maxrss * 1024
			res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		res.err = err
	}
	if ctx.Err() != nil {
		res.err = fmt.Errorf("killed after %v (hang?)", wallLimit)
	}
	// Nothing but --out may change.
	for _, d := range []string{w.cwd, w.home, w.tmp} {
		if ents, _ := os.ReadDir(d); len(ents) > 0 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
				os.RemoveAll(filepath.Join(d, e.Name()))
			}
			res.err = errors.Join(res.err, fmt.Errorf("wrote %v into %s (outside --out)", names, d))
		}
	}
	return res
}

// check validates one CLI result.
func (r cliResult) check() error {
	var errs []error
	if r.err != nil {
		errs = append(errs, r.err)
	}
	if r.status != 0 && r.status != 1 {
		errs = append(errs, fmt.Errorf("exit status %d", r.status))
	}
	for _, bad := range []string{"panic", "goroutine ", "fatal error", "internal error", "SIGSEGV", "runtime error"} {
		if strings.Contains(r.stderr, bad) {
			errs = append(errs, fmt.Errorf("stderr holds %q", bad))
		}
	}
	if r.status == 1 {
		first, _, _ := strings.Cut(r.stderr, "\n")
		if !strings.HasPrefix(first, "vgg16: ") || len(first) < 12 {
			errs = append(errs, fmt.Errorf("error message is not one clear line: %q", first))
		}
	}
	if r.run.expect != nil {
		if err := r.run.expect(r.status); err != nil {
			errs = append(errs, err)
		}
	}
	if r.cpu > cpuLimit {
		errs = append(errs, fmt.Errorf("took %v of CPU time, over %v", r.cpu, cpuLimit))
	}
	if r.rss > cliRSSBudget {
		errs = append(errs, fmt.Errorf("peak RSS %d MB, over %d MB", r.rss>>20, cliRSSBudget>>20))
	}
	if len(errs) == 0 {
		return nil
	}
	tail := r.stderr
	if len(tail) > 600 {
		tail = tail[:600] + "..."
	}
	return fmt.Errorf("%v: %w\nstderr: %s", r.run.args, errors.Join(errs...), tail)
}

// TestHostileInputs generates the hostile inputs and runs each through the
// library, then through the CLI. It reports the count, the slowest case
// and the peak memory.
func TestHostileInputs(t *testing.T) {
	cs, src := cases(t)
	fam := map[string]int{}
	corpus := 0
	for _, c := range cs {
		fam[c.Family]++
		if strings.Contains(c.Name, "corpus-") {
			corpus++
		}
	}
	t.Logf("%d hostile inputs (%d from committed files, %d from the shared corpus): %v", len(cs), len(cs)-corpus, corpus, fam)

	// Library, one call at a time (allocation is measured per call).
	libStart := time.Now()
	libs := make([]libResult, len(cs))
	var slowLib, bigLib int
	for i, c := range cs {
		libs[i] = runLibrary(t, c)
		if libs[i].dur > libs[slowLib].dur {
			slowLib = i
		}
		if libs[i].alloc > libs[bigLib].alloc {
			bigLib = i
		}
	}
	t.Logf("library: %d inputs in %v; slowest %s (%s) %v; largest Go allocation %s (%s) %.1f MB",
		len(cs), time.Since(libStart).Round(time.Millisecond), cs[slowLib].Name, libs[slowLib].op, libs[slowLib].dur.Round(time.Microsecond),
		cs[bigLib].Name, libs[bigLib].op, float64(libs[bigLib].alloc)/(1<<20))
	if testing.Short() {
		t.Skip("-short: CLI runs skipped")
	}

	// CLI, each command in its own process. A child's peak RSS (from
	// wait4) starts at the parent's peak: Linux carries the high-water
	// mark over the exec of a vfork'ed child. Return the library runs'
	// memory and reset the mark, so the children's figures are theirs
	// (plus the test process's current RSS, reported as the floor).
	bin := buildCLI(t)
	libPeak := procStatus("VmHWM")
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak RSS (%v): CLI figures include the library runs' peak", err)
	}
	t.Logf("test process RSS before the CLI runs (the floor of their peak RSS): %.1f MB", float64(procStatus("VmRSS"))/(1<<20))
	goodImage := filepath.Join(root, "preprocess", "testdata", "images", "rgb.png")
	all := os.Getenv("HOSTILE_ALL_COMMANDS") == "1"
	var runs []cliRun
	for i, c := range cs {
		runs = append(runs, cliRuns(i, c, libs[i], src, goodImage, all)...)
	}
	nw := min(runtime.GOMAXPROCS(0), 4)
	ch := make(chan cliRun)
	results := make(chan cliResult)
	var wg sync.WaitGroup
	for i := range nw {
		w, err := newWorker(filepath.Join(t.TempDir(), fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && w.prlimit == "" {
			t.Logf("prlimit not installed: no address-space limit on CLI runs (peak RSS still checked)")
		}
		wg.Go(func() {
			for r := range ch {
				results <- w.run(bin, r)
			}
		})
	}
	go func() {
		for _, r := range runs {
			ch <- r
		}
		close(ch)
		wg.Wait()
		close(results)
	}()
	cliStart := time.Now()
	var done []cliResult
	failed := 0
	for r := range results {
		done = append(done, r)
		if err := r.check(); err != nil {
			failed++
			if failed <= 300 {
				t.Errorf("%s (%s): %v", r.run.c.Name, r.run.c.Note, err)
			}
		}
	}
	if failed > 300 {
		t.Errorf("... %d failed runs in all", failed)
	}
	sort.Slice(done, func(i, j int) bool { return done[i].wall > done[j].wall })
	var maxRSS int64
	var maxCPU cliResult
	statuses := map[int]int{}
	for _, r := range done {
		maxRSS = max(maxRSS, r.rss)
		if r.cpu > maxCPU.cpu {
			maxCPU = r
		}
		statuses[r.status]++
	}
	t.Logf("CLI: %d runs in %v (exit statuses %v); slowest %v wall: %s %v; most CPU %v: %s %v; peak RSS of a run %.1f MB",
		len(done), time.Since(cliStart).Round(time.Millisecond), statuses, done[0].wall.Round(time.Millisecond), done[0].run.c.Name, done[0].run.args[0],
		maxCPU.cpu.Round(time.Millisecond), maxCPU.run.c.Name, maxCPU.run.args[0], float64(maxRSS)/(1<<20))
	t.Logf("peak RSS of the test process during the library runs: %.1f MB", float64(libPeak)/(1<<20))
}

// procStatus returns a field of /proc/self/status in bytes (0 if absent).
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
