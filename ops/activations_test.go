package ops

import (
	"math"
	"strings"
	"testing"
)

// Hand-computed values (closed forms evaluated separately, e.g.
// sigmoid(1) = 1/(1+1/e), Φ(1) = 0.8413447460685429).
func TestActivationsHandValues(t *testing.T) {
	e := math.E
	const phi1 = 0.8413447460685429 // standard normal CDF at 1
	for _, tc := range []struct {
		name string
		x    []float32
		want []float64
	}{
		{"linear", []float32{-2, 0, 3.5}, []float64{-2, 0, 3.5}},
		{"", []float32{-2, 3.5}, []float64{-2, 3.5}},
		{"relu", []float32{-2, 0, 3.5}, []float64{0, 0, 3.5}},
		{"relu6", []float32{-2, 3.5, 7}, []float64{0, 3.5, 6}},
		{"leaky_relu", []float32{-1, 2}, []float64{-0.2, 2}},
		{"sigmoid", []float32{-1, 0, 1}, []float64{1 / (1 + e), 0.5, 1 / (1 + 1/e)}},
		// tf.keras 2.x docstring example: [-3,-1,0,1,3] -> [0,0.3,0.5,0.7,1].
		{"hard_sigmoid", []float32{-3, -1, 0, 1, 3}, []float64{0, 0.3, 0.5, 0.7, 1}},
		{"HARD_SIGMOID", []float32{-2.5, 2.5}, []float64{0, 1}},
		{"tanh", []float32{0.5, -2}, []float64{(e - 1) / (e + 1), -(e*e*e*e - 1) / (e*e*e*e + 1)}},
		{"elu", []float32{-1, 2}, []float64{1/e - 1, 2}},
		{"selu", []float32{-1, 2}, []float64{1.0507009873554805 * 1.6732632423543772 * (1/e - 1), 2 * 1.0507009873554805}},
		{"softplus", []float32{0, 1, -1, 100}, []float64{math.Ln2, math.Log(1 + e), math.Log(1 + 1/e), 100}},
		{"softsign", []float32{3, -1}, []float64{0.75, -0.5}},
		{"exponential", []float32{1, 0}, []float64{e, 1}},
		{"swish", []float32{1, 0}, []float64{1 / (1 + 1/e), 0}},
		{"silu", []float32{-1}, []float64{-1 / (1 + e)}},
		{"gelu", []float32{1, -1, 0}, []float64{phi1, -(1 - phi1), 0}},
		{"mish", []float32{1}, []float64{math.Tanh(math.Log(1 + e))}},
		{"hard_silu", []float32{1, -4, 4}, []float64{4.0 / 6, 0, 4}},
		{"hard_swish", []float32{-1}, []float64{-2.0 / 6}},
		{"log_sigmoid", []float32{0}, []float64{-math.Ln2}},
	} {
		f, err := Activation(tc.name)
		if err != nil {
			t.Fatalf("Activation(%q): %v", tc.name, err)
		}
		x := append([]float32(nil), tc.x...)
		f(x)
		for i := range x {
			if d := math.Abs(float64(x[i]) - tc.want[i]); d > 1e-7*math.Max(1, math.Abs(tc.want[i])) {
				t.Errorf("%s(%v) = %v, want %v", tc.name, tc.x[i], x[i], tc.want[i])
			}
		}
	}
	// Keras 3's hard_sigmoid: relu6(x+3)/6.
	x := []float32{-3, -1, 0, 1, 3}
	HardSigmoidKeras3(x)
	expectClose(t, "HardSigmoidKeras3", x, []float32{0, 1.0 / 3, 0.5, 2.0 / 3, 1}, 1e-7)
	// gelu tanh approximation at 1: 0.5(1+tanh(sqrt(2/pi)*1.044715)).
	x = []float32{1, -1}
	GELUApprox(x)
	expectClose(t, "GELUApprox", x, []float32{0.8411919906082768, -0.15880800939172324}, 1e-7)
	// Exact gelu far in the negative tail is tiny but not zero or NaN.
	x = []float32{-10}
	GELU(x)
	if x[0] >= 0 || x[0] < -1e-20 || math.IsNaN(float64(x[0])) {
		t.Errorf("gelu(-10) = %v, want about -7.6e-23", x[0])
	}
}

func TestActivationErrors(t *testing.T) {
	if _, err := Activation("softmax"); err == nil || !strings.Contains(err.Error(), "Softmax") {
		t.Errorf("softmax: %v", err)
	}
	if _, err := Activation("relu7"); err == nil || !strings.Contains(err.Error(), `"relu7"`) || !strings.Contains(err.Error(), "gelu") {
		t.Errorf("unknown: %v", err)
	}
}

func TestSoftmaxHand(t *testing.T) {
	x := []float32{1, 2, 3, 1000, 1001, 1002, -5, -5, -5}
	Softmax(x, 3, 3)
	a, b := 1/(1+math.E+math.E*math.E), math.E/(1+math.E+math.E*math.E)
	c := math.E * math.E / (1 + math.E + math.E*math.E)
	want := []float32{float32(a), float32(b), float32(c), float32(a), float32(b), float32(c), 1.0 / 3, 1.0 / 3, 1.0 / 3}
	expectClose(t, "softmax", x, want, 1e-7)
}

func TestReLUVariantsHand(t *testing.T) {
	x := []float32{-1, 0.5, 1, 3, 8}
	ReLU(x, 6, 0.1, 1)
	expectClose(t, "ReLU(max 6, slope 0.1, threshold 1)", x, []float32{-0.2, -0.05, 0, 3, 6}, 1e-7)
	x = []float32{-1, 0, 2, 9}
	ReLU(x, -1, 0, 0)
	expectClose(t, "ReLU()", x, []float32{0, 0, 2, 9}, 0)
	x = []float32{-2, 3}
	LeakyReLU(x, 0.3)
	expectClose(t, "LeakyReLU", x, []float32{-0.6, 3}, 1e-7)
	x = []float32{-1, 2}
	ELU(x, 0.5)
	expectClose(t, "ELU", x, []float32{float32(0.5 * (1/math.E - 1)), 2}, 1e-7)
	x = []float32{-1, -1, 2, -2, -2, 3}
	PReLU(x, []float32{0.5, 0.25, 0.1}, 2)
	expectClose(t, "PReLU", x, []float32{-0.5, -0.25, 2, -1, -0.5, 3}, 0)
	x = []float32{0, 127.5, 255}
	Rescale(x, 1.0/127.5, -1)
	expectClose(t, "Rescale", x, []float32{-1, 0, 1}, 1e-7)
}
