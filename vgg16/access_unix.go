//go:build unix

package vgg16

import "syscall"

// writable reports whether the current user may write into dir, like
// Python's os.access(dir, os.W_OK).
func writable(dir string) bool { return syscall.Access(dir, 2) == nil }
