package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// NFQUEUE hands packets to a userspace queue, revision 3; it mirrors
// struct xt_NFQ_info_v3.
type NFQUEUE struct {
	QueueNum    uint16
	QueuesTotal uint16
	Flags       uint16
}

const (
	nfqBypass     = 0x01
	nfqCPUFanout  = 0x02
	nfqMaxQueueID = 0xffff
)

var nfqueueTargetInfo = &table.ExtInfo{
	Name: "NFQUEUE", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 3, Size: nfqueueSize,
	Options: opts("queue-num=", "queue-balance=", "queue-bypass", "queue-cpu-fanout"),
	New:     func(table.Family) table.Ext { return &NFQUEUE{QueuesTotal: 1} },
}

func (t *NFQUEUE) Info() *table.ExtInfo { return nfqueueTargetInfo }
func (t *NFQUEUE) Name() string         { return "NFQUEUE" }

func (t *NFQUEUE) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "queue-num":
		v, err := parseUint(a.Arg, 0, nfqMaxQueueID)
		if err != nil {
			return err
		}
		t.QueueNum = uint16(v)
	case "queue-balance":
		lo, hi, n, err := parseUintRange(a.Arg, nfqMaxQueueID)
		if err != nil {
			return err
		}
		if n != 2 {
			return table.WithHint("write --queue-balance FIRST:LAST", "invalid queue range %q", a.Arg)
		}
		if lo >= hi {
			return fmt.Errorf("invalid queue range %q (the first queue must be below the last)", a.Arg)
		}
		// The kernel counts the queues in 16 bits: 0:65535 would be 0
		// queues, which it refuses.
		if hi-lo+1 > 0xffff {
			return fmt.Errorf("invalid queue range %q (at most 65535 queues)", a.Arg)
		}
		t.QueueNum = uint16(lo)
		t.QueuesTotal = uint16(hi - lo + 1)
	case "queue-bypass":
		t.Flags |= nfqBypass
	case "queue-cpu-fanout":
		t.Flags |= nfqCPUFanout
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *NFQUEUE) Finish(c *table.FinishContext) error {
	if c.Seen.Has("queue-num") && c.Seen.Has("queue-balance") {
		return fmt.Errorf("--queue-num and --queue-balance cannot be combined")
	}
	if c.Seen.Has("queue-cpu-fanout") && !c.Seen.Has("queue-balance") {
		return table.WithHint("add --queue-balance FIRST:LAST", "--queue-cpu-fanout needs --queue-balance")
	}
	return nil
}

func (t *NFQUEUE) Print(w *table.Writer) {
	if t.QueuesTotal > 1 {
		w.Opt(false, "queue-balance", rangeText(uint64(t.QueueNum), uint64(t.QueueNum)+uint64(t.QueuesTotal)-1))
	} else {
		w.OptUint(false, "queue-num", uint64(t.QueueNum))
	}
	if t.Flags&nfqBypass != 0 {
		w.Flag(false, "queue-bypass")
	}
	if t.Flags&nfqCPUFanout != 0 {
		w.Flag(false, "queue-cpu-fanout")
	}
}

// struct xt_NFQ_info_v3: queuenum u16@0 queues_total u16@2 flags u16@4.
const nfqueueSize = 6

func (t *NFQUEUE) layout() []field {
	return []field{{0, &t.QueueNum}, {2, &t.QueuesTotal}, {4, &t.Flags}}
}

func (t *NFQUEUE) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *NFQUEUE) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
