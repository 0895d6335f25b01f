package hostile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCommandsWriteOnlyIntoOut runs the vgg16 commands on valid inputs with
// the working folder, HOME and TMPDIR in fresh temporary folders and checks
// that they succeed, that every file they write is inside --out (the files
// expected there are there), and that --npy names leaving --out are refused
// without writing anything. (TestHostileInputs makes the same outside-out
// check after each of its runs.)
func TestCommandsWriteOnlyIntoOut(t *testing.T) {
	bin := buildCLI(t)
	w, err := newWorker(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	seq := filepath.Join(root, "testdata", "ref", "sequential")
	model, keras := filepath.Join(seq, "model.h5"), filepath.Join(seq, "model.keras")
	img := filepath.Join(root, "preprocess", "testdata", "images", "rgb.png")
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		ok    bool
		files []string // expected under --out
	}{
		{[]string{"summary", "--model", model}, true, nil},
		{[]string{"inspect", keras}, true, nil},
		{[]string{"predict", "--model", model, "--image", img}, true, nil},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv", "--out", "@OUT@", "--npy", "maps/conv.npy"}, true,
			[]string{"conv_rgb.png", "maps/conv.npy"}},
		{[]string{"filters", "--model", keras, "--out", "@OUT@"}, true, nil},
		{[]string{"activations", "--model", model, "--input", filepath.Join(seq, "input_0.npy"), "--out", "@OUT@/acts.h5"}, true, []string{"acts.h5"}},
		{[]string{"sample-image", "--out", "@OUT@/sample.png", "--size", "32"}, true, []string{"sample.png"}},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv", "--out", "@OUT@", "--npy", "../escape.npy"}, false, nil},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv", "--out", "@OUT@", "--npy", filepath.Join(outside, "abs.npy")}, false, nil},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv", "--out", "@OUT@", "--npy", "a/../../escape.npy"}, false, nil},
	} {
		r := w.run(bin, cliRun{args: c.args})
		if err := r.check(); err != nil {
			t.Errorf("%v", err)
			continue
		}
		if (r.status == 0) != c.ok {
			t.Errorf("%v: exit status %d, stderr %s", c.args, r.status, r.stderr)
			continue
		}
		var got []string
		filepath.WalkDir(w.out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(w.out, p)
				got = append(got, filepath.ToSlash(rel))
			}
			return nil
		})
		for _, f := range c.files {
			if !slices.Contains(got, f) {
				t.Errorf("%v: %s not written into --out (it has %v)", c.args, f, got)
			}
		}
		if !c.ok && len(got) > 0 {
			t.Errorf("%v failed but wrote %v", c.args, got)
		}
		t.Logf("%s: exit %d, wrote %v", strings.Join(c.args[:1], " "), r.status, got)
	}
	if ents, _ := os.ReadDir(outside); len(ents) > 0 {
		t.Errorf("files written outside --out: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "escape.npy")); err == nil {
		t.Errorf("featuremap wrote ../escape.npy")
	}
}
