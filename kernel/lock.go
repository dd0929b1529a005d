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
func AcquireLock(path string, wait time.Duration) (*Lock, error) {
	if path == "" {
		path = LockFile()
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Lock{f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if wait >= 0 && time.Now().After(deadline) {
			f.Close()
			if wait == 0 {
				return nil, fmt.Errorf("%w (%s); use -w to wait for it", ErrLockBusy, path)
			}
			return nil, fmt.Errorf("%w (%s); stopped waiting after %v", ErrLockBusy, path, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Release lets go of the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
