package engine

import (
	"strconv"
	"strings"
	"testing"
)

// manyKeys is an object of n distinct names, the last one given twice
// when dup is set.
func manyKeys(n int, dup bool) []byte {
	var b strings.Builder
	b.WriteString(`{"payload":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	if dup {
		b.WriteString(`,"k` + strconv.Itoa(n-1) + `":2`)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// TestScanNamesFindsADuplicateAmongMany: past the first few names of an
// object the check switches to a set; a name given twice is still found,
// with its path, and distinct names still pass.
func TestScanNamesFindsADuplicateAmongMany(t *testing.T) {
	for _, n := range []int{2, 16, 17, 40000} {
		if dup, err := ScanNames(manyKeys(n, false), nil); dup != "" || err != nil {
			t.Errorf("%d distinct names: duplicate %q, %v", n, dup, err)
		}
		want := "payload.k" + strconv.Itoa(n-1)
		if dup, err := ScanNames(manyKeys(n, true), nil); dup != want || err != nil {
			t.Errorf("%d names, the last twice: duplicate %q, %v; want %q", n, dup, err, want)
		}
	}
	// Names escaped differently are the same name.
	if dup, _ := ScanNames([]byte(`{"a":{`+strings.Repeat(`"x":1,`, 0)+manyObject(20)+`,"\u006b3":2}}`), nil); dup != "a.k3" {
		t.Errorf("an escaped repeat among 20 names: %q, want a.k3", dup)
	}
}

// manyObject is the members of an object of n names k0…k(n-1), without
// braces.
func manyObject(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"k` + strconv.Itoa(i) + `":1`
	}
	return strings.Join(parts, ",")
}

// BenchmarkScanNamesManyKeys: a 1 MiB body of distinct names, what an
// agent may send, must cost time in proportion to its size.
func BenchmarkScanNamesManyKeys(b *testing.B) {
	body := manyKeys(80000, false)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if dup, _ := ScanNames(body, nil); dup != "" {
			b.Fatal(dup)
		}
	}
}
