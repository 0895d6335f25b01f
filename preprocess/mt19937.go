package preprocess

import "fmt"

// mt19937 is the Mersenne Twister generator behind NumPy's legacy
// np.random.RandomState, seeded the way RandomState(seed) seeds it for an
// integer seed (Matsumoto and Nishimura's init_genrand).
type mt19937 struct {
	state [624]uint32
	pos   int
}

// newMT19937 returns the generator of np.random.RandomState(seed).
func newMT19937(seed uint32) *mt19937 {
	r := &mt19937{}
	r.state[0] = seed
	for i := 1; i < len(r.state); i++ {
		prev := r.state[i-1]
		r.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	r.pos = len(r.state)
	return r
}

// next returns the next 32-bit output (genrand_int32).
func (r *mt19937) next() uint32 {
	const (
		n, m  = 624, 397
		upper = 0x80000000
		lower = 0x7fffffff
		matA  = 0x9908b0df
	)
	if r.pos >= n {
		s := &r.state
		for i := 0; i < n; i++ {
			y := s[i]&upper | s[(i+1)%n]&lower
			v := s[(i+m)%n] ^ y>>1
			if y&1 != 0 {
				v ^= matA
			}
			s[i] = v
		}
		r.pos = 0
	}
	y := r.state[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// interval returns a uniform integer in [0, max] the way NumPy's
// random_interval does: draw 32-bit outputs (64-bit ones, two draws, above
// 2^32-1), mask them to the smallest all-ones mask covering max, and
// reject values above max.
func (r *mt19937) interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mask := max
	for s := uint(1); s <= 32; s <<= 1 {
		mask |= mask >> s
	}
	if max <= 0xffffffff {
		for {
			if v := uint64(r.next()) & mask; v <= max {
				return v
			}
		}
	}
	for {
		hi := uint64(r.next())
		lo := uint64(r.next())
		if v := (hi<<32 | lo) & mask; v <= max {
			return v
		}
	}
}

// ShufflePermutation returns the order in which
// np.random.RandomState(seed).shuffle(x) leaves the n items of a list x:
// element i of the result is the index, in the original list, of the item
// that ends up at position i. This is how image_dataset_from_directory
// shuffles its file list, so with the same seed the Go dataset visits the
// files in Keras's order.
//
// NumPy's legacy shuffle is a Fisher-Yates shuffle from the end: for i
// from n-1 down to 1 it swaps x[i] with x[j], j drawn uniformly from
// [0, i] by masked rejection sampling on the Mersenne Twister's 32-bit
// outputs. Seeds are those RandomState accepts: 0 to 2^32-1.
func ShufflePermutation(n int, seed int64) ([]int, error) {
	if seed < 0 || seed > 0xffffffff {
		return nil, fmt.Errorf("preprocess: shuffle seed %d: must be between 0 and 2**32 - 1 (NumPy RandomState)", seed)
	}
	if n < 0 {
		return nil, fmt.Errorf("preprocess: shuffle of %d items", n)
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r := newMT19937(uint32(seed))
	for i := n - 1; i > 0; i-- {
		j := int(r.interval(uint64(i)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm, nil
}
