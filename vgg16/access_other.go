//go:build !unix

package vgg16

import "os"

// writable reports whether dir exists and is a folder (elsewhere than on
// Unix, access rights are not checked).
func writable(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}
