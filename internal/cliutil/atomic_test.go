package cliutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestAtomicFile: readers see the old file until Commit; Reset starts the
// new one again; Abort and a failed write leave the old one; the old
// file's permissions carry over.
func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.v4")
	if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	f, err := CreateAtomic(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("first try, taken back\n"))
	f.Reset()
	f.Write([]byte("new\n"))
	if got := read(); got != "old\n" {
		t.Fatalf("before Commit the file reads %q", got)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "new\n" {
		t.Fatalf("after Commit the file reads %q, want %q", got, "new\n")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("permissions %v (%v), want 0640 kept", fi.Mode().Perm(), err)
	}

	f, err = CreateAtomic(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("abandoned\n"))
	f.Abort()
	if got := read(); got != "new\n" {
		t.Fatalf("after Abort the file reads %q", got)
	}
	if err := WriteFileAtomic(path, failingWriterTo{}, 0o600); err == nil {
		t.Fatal("a failed write was committed")
	}
	if got := read(); got != "new\n" {
		t.Fatalf("after a failed write the file reads %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

type failingWriterTo struct{}

func (failingWriterTo) WriteTo(w io.Writer) (int64, error) {
	w.Write([]byte("half"))
	return 4, errors.New("the kernel read failed")
}
