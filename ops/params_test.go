package ops

import (
	"strings"
	"testing"
)

func TestConvOutputTable(t *testing.T) {
	for _, tc := range []struct {
		n, k, s, d         int
		pad                string
		out, before, after int
	}{
		{224, 3, 1, 1, "same", 224, 1, 1},
		{5, 3, 2, 1, "same", 3, 1, 1},
		{6, 3, 2, 1, "same", 3, 0, 1},
		{1000, 3, 2, 1, "valid", 499, 0, 0},
		{1500, 3, 2, 1, "valid", 749, 0, 0},
		{1000, 3, 2, 1, "same", 500, 0, 1},
		{1500, 3, 2, 1, "same", 750, 0, 1},
		{224, 2, 2, 1, "valid", 112, 0, 0}, // VGG max pool
		{7, 2, 2, 1, "valid", 3, 0, 0},
		{7, 2, 2, 1, "same", 4, 0, 1},
		{5, 3, 1, 1, "valid", 3, 0, 0}, // course: (N-F)/stride + 1
		{7, 3, 1, 1, "valid", 5, 0, 0}, // course: N=7, F=3
		{7, 3, 2, 1, "valid", 3, 0, 0},
		{7, 3, 3, 1, "valid", 2, 0, 0}, // course's 2.33 floors to 2
		{224, 7, 2, 1, "same", 112, 2, 3},
		{224, 3, 1, 2, "same", 224, 2, 2}, // effective kernel 5
		{10, 3, 1, 2, "valid", 6, 0, 0},
		{10, 4, 1, 1, "same", 10, 1, 2},
		{1, 3, 1, 1, "same", 1, 1, 1},
		{1, 3, 2, 1, "same", 1, 1, 1},
		{3, 5, 1, 1, "same", 3, 2, 2},
		{4, 1, 3, 1, "same", 2, 0, 0},
		{8, 5, 4, 1, "SAME", 2, 0, 1},
		{3, 3, 1, 1, "Valid", 1, 0, 0},
	} {
		out, before, after, err := ConvOutput(tc.n, tc.k, tc.s, tc.d, tc.pad)
		if err != nil || out != tc.out || before != tc.before || after != tc.after {
			t.Errorf("ConvOutput(n=%d, k=%d, s=%d, d=%d, %q) = %d, %d, %d, %v; want %d, %d, %d",
				tc.n, tc.k, tc.s, tc.d, tc.pad, out, before, after, err, tc.out, tc.before, tc.after)
		}
		// Keras's NumPy reference (conv_test.py _same_padding) for d=1.
		if strings.EqualFold(tc.pad, "same") && tc.d == 1 {
			var pad int
			if tc.n%tc.s == 0 {
				pad = max(tc.k-tc.s, 0)
			} else {
				pad = max(tc.k-tc.n%tc.s, 0)
			}
			if before != pad/2 || after != pad-pad/2 {
				t.Errorf("n=%d k=%d s=%d: pads %d,%d disagree with Keras's formula %d,%d", tc.n, tc.k, tc.s, before, after, pad/2, pad-pad/2)
			}
		}
	}
}

func TestConvOutputErrors(t *testing.T) {
	for _, tc := range []struct {
		n, k, s, d int
		pad        string
		msg        string
	}{
		{2, 3, 1, 1, "valid", "input size 2 is smaller than the kernel size 3"},
		{4, 3, 1, 2, "valid", "input size 4 is smaller than the effective kernel size 5 (kernel 3, dilation 2)"},
		{5, 3, 0, 1, "same", "stride 0"},
		{0, 3, 1, 1, "same", "input 0"},
		{5, 3, 1, 1, "full", `unknown padding "full"`},
		{5, 3, 1, 1, "causal", "only defined for 1-D"},
		{5, 1 << 20, 1, 1 << 20, "same", "too large"},
	} {
		_, _, _, err := ConvOutput(tc.n, tc.k, tc.s, tc.d, tc.pad)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ConvOutput(%d, %d, %d, %d, %q) error = %v, want one containing %q", tc.n, tc.k, tc.s, tc.d, tc.pad, err, tc.msg)
		}
	}
}

func TestConvTransposeOutputTable(t *testing.T) {
	for _, tc := range []struct {
		n, k, s, d, outPad int
		pad                string
		out, before        int
	}{
		{3, 3, 2, 1, -1, "same", 6, 0},  // TF: forward 6 -> 3 pads 0,1
		{3, 3, 2, 1, -1, "valid", 7, 0}, // (n-1)*s + k
		{4, 2, 2, 1, -1, "valid", 8, 0},
		{3, 4, 2, 1, -1, "same", 6, 1},
		{3, 5, 3, 1, -1, "same", 9, 1},
		{3, 1, 2, 1, -1, "valid", 6, 0}, // n*s + max(k-s, 0)
		{4, 3, 2, 1, 1, "same", 8, 0},
		{4, 3, 2, 1, 0, "same", 7, 1},
		{5, 3, 1, 2, -1, "same", 5, 2},
	} {
		out, before, err := ConvTransposeOutput(tc.n, tc.k, tc.s, tc.d, tc.pad, tc.outPad)
		if err != nil || out != tc.out || before != tc.before {
			t.Errorf("ConvTransposeOutput(%d, %d, %d, %d, %q, %d) = %d, %d, %v; want %d, %d",
				tc.n, tc.k, tc.s, tc.d, tc.pad, tc.outPad, out, before, err, tc.out, tc.before)
		}
	}
	if _, _, err := ConvTransposeOutput(3, 3, 2, 1, "same", 2); err == nil {
		t.Error("output padding 2 with stride 2 accepted")
	}
}

func TestParamsErrorsNameTheAxis(t *testing.T) {
	_, err := NewConvParams(1, 10, 2, 3, 3, 3, 4, 1, 1, 1, 1, "valid")
	if err == nil || !strings.HasPrefix(err.Error(), "width: ") {
		t.Errorf("NewConvParams with a 2-wide image and 3x3 kernel: error %v", err)
	}
	_, err = NewPoolParams(1, 1, 10, 3, 2, 2, 2, 2, "valid")
	if err == nil || !strings.HasPrefix(err.Error(), "height: ") {
		t.Errorf("NewPoolParams with a 1-high image: error %v", err)
	}
	if _, err = NewConvParams(1, 10, 10, 0, 3, 3, 4, 1, 1, 1, 1, "valid"); err == nil {
		t.Error("zero channels accepted")
	}
	if _, err = NewConvParams(1<<30, 1<<20, 1<<20, 3, 3, 3, 4, 1, 1, 1, 1, "same"); err == nil {
		t.Error("absurd size accepted")
	}
	p, err := NewConvParams(2, 224, 224, 3, 3, 3, 64, 1, 1, 1, 1, "same")
	if err != nil || p.OH != 224 || p.OW != 224 || p.PadTop != 1 || p.PadLeft != 1 {
		t.Errorf("VGG16 block1_conv1 params %+v, %v", p, err)
	}
}
