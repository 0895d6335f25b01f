package malformed

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGenerateCommitted checks that the committed sources alone give at
// least 500 cases, every one with a unique name and an existing path (or a
// deliberately missing one), and that two runs give the same cases.
func TestGenerateCommitted(t *testing.T) {
	src, err := Committed("../..")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Generate(t.TempDir(), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 500 {
		t.Errorf("%d cases from committed files, want at least 500", len(a))
	}
	fam := map[string]int{}
	for _, c := range a {
		fam[c.Family]++
		if _, err := os.Lstat(c.Path); err != nil && filepath.Base(c.Path) != "no-such-file.h5" && filepath.Base(c.Path) != "no-such-image.png" {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	t.Logf("%d cases: %v", len(a), fam)
	b, err := Generate(t.TempDir(), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("second run: %d cases, first %d", len(b), len(a))
	}
	for i := range a {
		if st, err := os.Lstat(a[i].Path); err != nil || !st.Mode().IsRegular() {
			continue
		}
		x, _ := os.ReadFile(a[i].Path)
		y, _ := os.ReadFile(b[i].Path)
		if a[i].Name != b[i].Name || string(x) != string(y) && a[i].Family != "h5data" && a[i].Family != "config" {
			t.Errorf("case %d differs between runs: %s / %s", i, a[i].Name, b[i].Name)
		}
	}
}
