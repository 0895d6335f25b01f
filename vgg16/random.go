package vgg16

import (
	"math"
	"math/rand/v2"

	"github.com/kerago/kerago/graph"
)

// InitRandom gives every layer of m the weights Keras gives a freshly built
// model (VGG16(weights=None)): kernels drawn from Glorot's uniform
// distribution, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) — for a
// Conv2D kernel (kh, kw, in, out) fan_in = kh·kw·in and fan_out = kh·kw·out,
// for a Dense kernel (in, out) simply in and out — and zero biases.
//
// The values are drawn from a PCG generator seeded with seed, so a seed
// always gives the same model (not the same numbers Keras would draw).
// Weights of rank below 2 other than biases are zeroed too, so use this on
// models of Conv2D / Dense layers such as VGG16.
func InitRandom(m *graph.Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, w := range m.Weights() {
		if len(w.Shape) < 2 {
			clear(w.Data)
			continue
		}
		receptive := 1
		for _, d := range w.Shape[:len(w.Shape)-2] {
			receptive *= d
		}
		fanIn := receptive * w.Shape[len(w.Shape)-2]
		fanOut := receptive * w.Shape[len(w.Shape)-1]
		limit := math.Sqrt(6 / float64(fanIn+fanOut))
		for i := range w.Data {
			w.Data[i] = float32((2*rng.Float64() - 1) * limit)
		}
	}
}
