//go:build !linux

package h5

import "testing"

// captureStderr runs fn; capturing file descriptor 2 is implemented for Linux
// only, elsewhere the check that libhdf5 printed nothing is skipped.
func captureStderr(t *testing.T, fn func()) string {
	t.Log("stderr capture not implemented on this OS; not checking libhdf5's silence")
	fn()
	return ""
}
