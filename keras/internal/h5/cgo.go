package h5

// The C side lives in shim.c / shim.h. The flags below fit Debian/Ubuntu's
// libhdf5-dev (serial flavour); elsewhere set CGO_CFLAGS / CGO_LDFLAGS.

// #cgo CFLAGS: -I/usr/include/hdf5/serial
// #cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial
// #cgo LDFLAGS: -lhdf5_hl -lhdf5
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// mu serialises every call into libhdf5. Builds of the library differ: many
// (conda, self-built, macOS) are not thread-safe at all, and even thread-safe
// builds such as Debian's 1.10 leave the high-level hdf5_hl library (used by
// OpenImage) unprotected. One package-level mutex makes every build safe for
// concurrent use by goroutines; HDF5 serialises I/O internally anyway, so
// little is lost.
var mu sync.Mutex

// lock takes mu, pins the goroutine to its OS thread and silences libhdf5's
// automatic error printing. libhdf5's error stack and its "print on error"
// setting are per thread in thread-safe builds, so both must be handled on the
// thread that makes the calls. Usage: defer lock()().
func lock() (unlock func()) {
	mu.Lock()
	runtime.LockOSThread()
	C.h5go_silence()
	return func() {
		runtime.UnlockOSThread()
		mu.Unlock()
	}
}

func init() {
	defer lock()()
	C.H5open()
}

// takeError returns a one-line summary of libhdf5's current error stack
// ("outermost description: innermost description") and clears the stack. Call
// it (with mu held) right after the failing call, before any other library
// call, since each API call clears the stack.
func takeError() string {
	var buf [640]C.char
	n := C.h5go_take_error(&buf[0], C.size_t(len(buf)))
	if n == 0 {
		return "libhdf5 call failed"
	}
	return "libhdf5: " + C.GoStringN(&buf[0], C.int(n))
}

// cstr returns a C copy of s and the function that frees it. It refuses
// strings with NUL bytes, which C cannot represent.
func cstr(s string) (*C.char, func(), error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, nil, errors.New("name or value contains a NUL byte")
	}
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }, nil
}

// names converts an h5go_names list to Go strings and frees it.
func names(l *C.h5go_names) []string {
	defer C.free(unsafe.Pointer(l.buf))
	out := make([]string, 0, int(l.count))
	if l.len == 0 {
		return out
	}
	b := C.GoBytes(unsafe.Pointer(l.buf), C.int(l.len))
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		out = append(out, string(b[:i]))
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}
