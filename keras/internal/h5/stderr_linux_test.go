//go:build linux

package h5

import (
	"io"
	"os"
	"syscall"
	"testing"
)

// captureStderr runs fn with file descriptor 2 redirected to a pipe and
// returns what was written to it, so that output of C code (libhdf5 prints
// its error stack with fprintf(stderr)) is caught too.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			syscall.Dup3(saved, 2, 0)
			syscall.Close(saved)
			w.Close()
		}()
		fn()
	}()
	out := <-done
	r.Close()
	return out
}
