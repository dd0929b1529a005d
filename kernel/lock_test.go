package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// holder takes the lock at path through a file of its own, as another
// program would.
func holder(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLockBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xtables.lock")
	h := holder(t, path)
	if _, err := AcquireLock(path, 0); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("held lock, no wait: %v", err)
	}
	start := time.Now()
	if _, err := AcquireLock(path, 50*time.Millisecond); !errors.Is(err, ErrLockBusy) || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("held lock, wait 50ms: %v after %v", err, time.Since(start))
	}
	// The abandoned wait lets go of what it gets: the holder's release
	// must leave the lock free for the next comer.
	h.Close()
	l, err := AcquireLock(path, time.Second)
	if err != nil {
		t.Fatalf("free lock: %v", err)
	}
	if _, err := AcquireLock(path, 0); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("the lock taken is not held: %v", err)
	}
	l.Release()
}

// TestLockWaitsForRelease: a waiter gets the lock when the holder lets go,
// with a deadline or without one.
func TestLockWaitsForRelease(t *testing.T) {
	for _, wait := range []time.Duration{-1, time.Minute} {
		path := filepath.Join(t.TempDir(), "xtables.lock")
		h := holder(t, path)
		got := make(chan error, 1)
		go func() {
			l, err := AcquireLock(path, wait)
			l.Release()
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("wait %v: returned while the lock was held: %v", wait, err)
		case <-time.After(20 * time.Millisecond):
		}
		h.Close()
		if err := <-got; err != nil {
			t.Fatalf("wait %v: %v", wait, err)
		}
	}
}

// TestLockContended: two other programs pass the lock back and forth,
// each holding it for a while, as several units restoring at boot do. A
// waiter queued in flock gets it; one that polls never does.
func TestLockContended(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds; not with -short")
	}
	const rounds = 20
	path := filepath.Join(t.TempDir(), "xtables.lock")
	var stop atomic.Bool
	var held atomic.Int64
	started := make(chan struct{}, 2)
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			for first := true; !stop.Load(); first = false {
				if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
					t.Error(err)
					return
				}
				held.Add(1)
				if first {
					started <- struct{}{}
				}
				time.Sleep(30 * time.Millisecond) // held, as a restore holds it
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			}
		}()
	}
	<-started
	<-started
	got := 0
	for range rounds {
		l, err := AcquireLock(path, 10*time.Second)
		if err == nil {
			got++
			l.Release()
		}
	}
	stop.Store(true)
	<-done
	<-done
	if got != rounds {
		t.Errorf("got the contended lock %d times of %d", got, rounds)
	}
	t.Logf("got the contended lock %d times of %d; the other programs held it %d times", got, rounds, held.Load())
}
