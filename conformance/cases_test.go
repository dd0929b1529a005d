package conformance

import (
	"iter"
	"testing"

	"github.com/fwkit/fw/table"
)

// acceptedCases yields every accepted case of the selected corpora
// (-corpus, -only) once for each family it applies to: the loop of every
// test that holds fw to the whole corpus.
func acceptedCases(t *testing.T) iter.Seq2[*Case, table.Family] {
	t.Helper()
	corpora, err := Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	return func(yield func(*Case, table.Family) bool) {
		for _, c := range corpora {
			for _, cs := range c.Cases {
				if cs.Expect != Accept {
					continue
				}
				for _, fam := range cs.Families() {
					if !yield(cs, fam) {
						return
					}
				}
			}
		}
	}
}
