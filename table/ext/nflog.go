package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// NFLOG logs through nfnetlink_log; it mirrors struct xt_nflog_info (the
// padding field aside).
type NFLOG struct {
	Len       uint32
	Group     uint16
	Threshold uint16
	Flags     uint16
	Prefix    string // char prefix[64]
}

const (
	nflogPrefixMax = 63
	nflogCopyLen   = 0x1 // XT_NFLOG_F_COPY_LEN
)

var nflogTargetInfo = &table.ExtInfo{
	Name: "NFLOG", Kind: table.TargetKind, Family: table.BothFamilies, Size: nflogSize,
	Options: opts("nflog-group=", "nflog-prefix=", "nflog-range=", "nflog-size=", "nflog-threshold="),
	New:     func(table.Family) table.Ext { return &NFLOG{} },
}

func (t *NFLOG) Info() *table.ExtInfo { return nflogTargetInfo }
func (t *NFLOG) Name() string         { return "NFLOG" }

func (t *NFLOG) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "nflog-group", "nflog-threshold":
		v, err := parseUint(a.Arg, 0, 0xffff)
		if err != nil {
			return err
		}
		if a.Key() == "nflog-group" {
			t.Group = uint16(v)
		} else {
			t.Threshold = uint16(v)
		}
	case "nflog-prefix":
		p, err := logPrefix(a.Arg, nflogPrefixMax)
		if err != nil {
			return err
		}
		t.Prefix = a.Keep(p)
	case "nflog-range", "nflog-size":
		// Both write the copy length; --nflog-range never worked in the
		// kernel (only the flag --nflog-size sets makes it count).
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		t.Len = uint32(v)
		if a.Key() == "nflog-size" {
			t.Flags |= nflogCopyLen
		}
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *NFLOG) Finish(c *table.FinishContext) error {
	if c.Seen.Has("nflog-range") && c.Seen.Has("nflog-size") {
		return fmt.Errorf("--nflog-range and --nflog-size cannot be combined")
	}
	return nil
}

func (t *NFLOG) Print(w *table.Writer) {
	if t.Prefix != "" {
		w.OptQuoted(false, "nflog-prefix", t.Prefix)
	}
	if t.Group != 0 {
		w.OptUint(false, "nflog-group", uint64(t.Group))
	}
	if t.Flags&nflogCopyLen != 0 {
		w.OptUint(false, "nflog-size", uint64(t.Len))
	} else if t.Len != 0 {
		w.OptUint(false, "nflog-range", uint64(t.Len))
	}
	if t.Threshold != 0 {
		w.OptUint(false, "nflog-threshold", uint64(t.Threshold))
	}
}

// struct xt_nflog_info: len u32@0 group u16@4 threshold u16@6 flags u16@8
// pad u16@10 prefix[64]@12.
const nflogSize = 76

func (t *NFLOG) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, t.Len)
	w.U16(4, t.Group)
	w.U16(6, t.Threshold)
	w.U16(8, t.Flags)
	if err := w.String(12, nflogPrefixMax+1, t.Prefix); err != nil {
		return fmt.Errorf("nflog prefix: %w", err)
	}
	return nil
}

func (t *NFLOG) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.Len, t.Group, t.Threshold, t.Flags = r.U32(0), r.U16(4), r.U16(6), r.U16(8)
	t.Prefix = r.String(12, nflogPrefixMax+1)
	return r.Err()
}
