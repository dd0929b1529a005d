package kernel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// RuleError is a kernel refusal pinned to the rule that caused it; both
// backends produce it, so that users see one wording.
type RuleError struct {
	Table string
	Chain string
	Index int // 1-based within the chain
	Rule  *table.Rule
	Err   error  // the errno
	Ack   string // the kernel's extended-ack message, if any (nf_tables)
	Log   string // what the kernel logged about it, if anything
	More  int    // further refusals in the same batch
}

func (e *RuleError) Error() string {
	where := fmt.Sprintf("table %s chain %s rule %d", e.Table, e.Chain, e.Index)
	if e.Rule != nil && e.Rule.Pos.IsValid() {
		where = fmt.Sprintf("%s:%d: %s", e.Rule.Pos.File, e.Rule.Pos.Line, where)
	}
	msg := where + ": the kernel refused the rule: " + Refusal(e.Err)
	if e.Ack != "" {
		msg += " (kernel: " + e.Ack + ")"
	}
	if e.Log != "" {
		msg += " (kernel log: " + e.Log + ")"
	}
	if e.More > 0 {
		msg += fmt.Sprintf("; %d more refusal(s) followed", e.More)
	}
	return msg
}

func (e *RuleError) Unwrap() error { return e.Err }

// Refusal says in words why the kernel refused one rule or object.
func Refusal(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	switch errno {
	case syscall.EINVAL:
		return "invalid argument (an extension's own check failed)"
	case syscall.ENOENT:
		return "a chain, match, target or object it names does not exist in the kernel"
	case syscall.ELOOP:
		return "it makes the chains jump in a loop"
	case syscall.EEXIST:
		return "it exists already"
	case syscall.EBUSY:
		return "it is in use"
	case syscall.EOPNOTSUPP:
		return "the kernel does not support it"
	}
	return Explain(errno)
}

// KernelLog returns what x_tables and nf_tables logged since t: an
// extension's checkentry explains an EINVAL there ("icmp match: only
// valid for protocol 1"). Reading /dev/kmsg needs root, which a write
// needs anyway; without it the error simply says less.
func KernelLog(t time.Time) string {
	// Raw non-blocking reads: each returns one record, EAGAIN at the end.
	// (An os.File would hand EAGAIN to the poller and wait forever.)
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	var info unix.Sysinfo_t
	if unix.Sysinfo(&info) != nil {
		return ""
	}
	boot := time.Now().Add(-time.Duration(info.Uptime) * time.Second)
	var msgs []string
	buf := make([]byte, 8192)
	for range 100000 {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EPIPE) {
			continue // records were overwritten while reading
		}
		if err != nil || n <= 0 {
			break
		}
		// "prio,seq,usec,flags;message\n"
		head, msg, ok := strings.Cut(string(buf[:n]), ";")
		if !ok {
			continue
		}
		msg, _, _ = strings.Cut(msg, "\n")
		fields := strings.Split(head, ",")
		if len(fields) < 3 {
			continue
		}
		var usec int64
		fmt.Sscan(fields[2], &usec)
		if boot.Add(time.Duration(usec) * time.Microsecond).Before(t.Add(-2 * time.Second)) {
			continue
		}
		for _, key := range []string{"x_tables", "xt_", "ip_tables", "ip6_tables", "nf_tables", "nft_compat", ": only valid"} {
			if strings.Contains(msg, key) {
				if m := strings.TrimSpace(msg); !slices.Contains(msgs, m) {
					msgs = append(msgs, m)
				}
				break
			}
		}
	}
	if len(msgs) > 3 {
		msgs = msgs[len(msgs)-3:]
	}
	return strings.Join(msgs, "; ")
}
