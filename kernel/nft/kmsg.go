package nft

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// kernelLog returns what x_tables and nf_tables logged since t: a compat
// extension's checkentry explains an EINVAL there ("icmp match: only
// valid for protocol 1"). Reading /dev/kmsg needs root, which a write
// needs anyway; without it the error simply says less.
func kernelLog(t time.Time) string {
	// Raw non-blocking reads: each returns one record, EAGAIN at the end.
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
		if strings.Contains(msg, "x_tables") || strings.Contains(msg, "xt_") || strings.Contains(msg, "nf_tables") ||
			strings.Contains(msg, "nft_compat") || strings.Contains(msg, ": only valid") {
			if m := strings.TrimSpace(msg); !slices.Contains(msgs, m) {
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) > 3 {
		msgs = msgs[len(msgs)-3:]
	}
	return strings.Join(msgs, "; ")
}
