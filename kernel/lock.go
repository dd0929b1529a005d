package kernel

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// DefaultLockFile is where iptables 1.8.9 keeps its lock.
const DefaultLockFile = "/run/xtables.lock"

// LockFile is the xtables lock path: XTABLES_LOCKFILE when set, else the
// default.
func LockFile() string {
	if p := os.Getenv("XTABLES_LOCKFILE"); p != "" {
		return p
	}
	return DefaultLockFile
}

// ErrLockBusy means another program holds the xtables lock.
var ErrLockBusy = errors.New("another program is holding the xtables lock")

// Lock is a held xtables lock. iptables takes the same flock around every
// legacy write, so holding it keeps fw and iptables from interleaving.
type Lock struct{ f *os.File }

// AcquireLock takes the xtables lock at path (LockFile() when ""). wait
// < 0 waits forever; wait == 0 fails at once when the lock is held;
// otherwise it waits up to wait.
//
// It waits as iptables does: blocked in flock, so the kernel hands the
// lock over the moment it is released. Polling would lose it every time
// to programs that pass it back and forth (several units restoring at
// boot), however long it waited.
func AcquireLock(path string, wait time.Duration) (*Lock, error) {
	if path == "" {
		path = LockFile()
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return &Lock{f}, nil
	case !errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	case wait == 0:
		f.Close()
		return nil, fmt.Errorf("%w (%s); use -w to wait for it", ErrLockBusy, path)
	}
	got := make(chan error, 1)
	go func() { got <- flock(f, syscall.LOCK_EX) }()
	var timeout <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return &Lock{f}, nil
	case <-timeout:
		// The blocked flock cannot be called back; when it returns, the
		// lock it may have taken is let go at once.
		go func() {
			<-got
			f.Close()
		}()
		return nil, fmt.Errorf("%w (%s); stopped waiting after %v", ErrLockBusy, path, wait)
	}
}

// flock is flock(2) on f, started again when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Held reports whether the lock is still held (not released).
func (l *Lock) Held() bool { return l != nil && l.f != nil }

// Release lets go of the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
