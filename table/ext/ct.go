package ext

import (
	"fmt"
	"math"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// CT is the CT target (and, with the alias flag, -j NOTRACK); it mirrors
// struct xt_ct_target_info_v1, which revision 2 uses (the kernel's
// conntrack template pointer that follows is not part of the value).
type CT struct {
	Flags     uint16
	Zone      uint16
	CtEvents  uint32
	ExpEvents uint32
	Helper    string // char[16]
	Timeout   string // char[32]
}

// xt_ct flags.
const (
	ctNotrack      = 1 << 0
	ctNotrackAlias = 1 << 1 // written by -j NOTRACK; prints as "-j NOTRACK"
	ctZoneDirOrig  = 1 << 2
	ctZoneDirRepl  = 1 << 3
	ctZoneMark     = 1 << 4

	ctHelperMax  = 15
	ctTimeoutMax = 31

	// ctTimeoutSaved is how much of the timeout name the kernel hands
	// back: it copies only the first 32 bytes of the payload to user
	// space (the size of the revision 0 struct), and the name starts at
	// byte 28.
	ctTimeoutSaved = 4
)

// Event names and bits (1 << IPCT_*), in print order.
var ctEventNames = flagNames{
	{"new", 1 << 0}, {"related", 1 << 1}, {"destroy", 1 << 2}, {"reply", 1 << 3}, {"assured", 1 << 4},
	{"protoinfo", 1 << 5}, {"helper", 1 << 6}, {"mark", 1 << 7}, {"natseqinfo", 1 << 8}, {"secmark", 1 << 9},
}

var ctExpEventNames = flagNames{{"new", 1 << 0}}

var ctTargetInfo = &table.ExtInfo{
	Name: "CT", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 2, Size: ctSize,
	Options: opts("notrack", "helper=", "timeout=", "ctevents=", "expevents=", "zone-orig=", "zone-reply=", "zone="),
	Tables:  []string{"raw"},
	New:     func(table.Family) table.Ext { return &CT{} },
}

func (t *CT) Info() *table.ExtInfo {
	if t.Flags&ctNotrackAlias != 0 {
		return notrackTargetInfo
	}
	return ctTargetInfo
}

func (t *CT) Name() string { return t.Info().Name }

func (t *CT) Parse(a *table.OptArgs) error {
	var err error
	switch k := a.Key(); k {
	case "notrack":
		t.Flags |= ctNotrack
	case "helper":
		// iptables cuts longer names to the field size without a word.
		if len(a.Arg) > ctHelperMax {
			return fmt.Errorf("helper name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), ctHelperMax)
		}
		t.Helper = a.Keep(a.Arg)
	case "timeout":
		if len(a.Arg) > ctTimeoutMax {
			return fmt.Errorf("timeout policy name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), ctTimeoutMax)
		}
		t.Timeout = a.Keep(a.Arg)
	case "ctevents":
		t.CtEvents, err = ctParseEvents(a.Arg, ctEventNames)
	case "expevents":
		t.ExpEvents, err = ctParseEvents(a.Arg, ctExpEventNames)
	case "zone", "zone-orig", "zone-reply":
		// Zone options accumulate direction flags and overwrite the id:
		// "--zone-orig 1 --zone-reply 2" is zone 2 in both directions.
		switch k {
		case "zone-orig":
			t.Flags |= ctZoneDirOrig
		case "zone-reply":
			t.Flags |= ctZoneDirRepl
		}
		t.Zone = 0
		if strings.EqualFold(a.Arg, "mark") {
			t.Flags |= ctZoneMark
			return nil
		}
		v, rest, ok := table.StrtoulPrefix(a.Arg, 0, math.MaxUint64)
		if !ok || rest != "" || v > 0xffff {
			return table.WithHint("a zone is a number 0-65535 or \"mark\"", "invalid zone %q", a.Arg)
		}
		t.Zone = uint16(v)
	default:
		return unknownOption(a)
	}
	return err
}

// ctParseEvents parses a comma-separated event list; names are exact and
// lower case.
func ctParseEvents(s string, names flagNames) (uint32, error) {
	var mask uint32
	for _, word := range strings.Split(s, ",") {
		found := false
		for _, n := range names {
			if word == n.name {
				mask |= n.bit
				found = true
				break
			}
		}
		if !found {
			var known []string
			for _, n := range names {
				known = append(known, n.name)
			}
			return 0, table.WithHint("known events are "+strings.Join(known, ", "), "unknown event %q", word)
		}
	}
	return mask, nil
}

func (t *CT) Finish(*table.FinishContext) error { return nil }

// Check applies the kernel's rule for helpers and timeout policies: both
// are looked up per layer 4 protocol. With --notrack the kernel ignores
// them.
func (t *CT) Check(c *table.CheckContext) error {
	if t.Flags&ctNotrack != 0 {
		return nil
	}
	if t.Helper != "" {
		return needL4Proto(c, "CT --helper")
	}
	if t.Timeout != "" {
		return needL4Proto(c, "CT --timeout")
	}
	return nil
}

// Unaliased drops the -j NOTRACK alias flag, which only the printer reads.
func (t *CT) Unaliased() table.Ext {
	c := *t
	c.Flags &^= ctNotrackAlias
	return &c
}

func (t *CT) Print(w *table.Writer) {
	if t.Flags&ctNotrackAlias != 0 {
		return
	}
	if t.Flags&ctNotrack != 0 {
		w.Flag(false, "notrack")
	}
	// Names are printed bare, as iptables does.
	if t.Helper != "" {
		w.Opt(false, "helper", t.Helper)
	}
	if t.Timeout != "" {
		// What iptables-save prints is what the kernel reports, which is
		// cut short; see ctTimeoutSaved.
		name := t.Timeout
		if len(name) > ctTimeoutSaved {
			name = name[:ctTimeoutSaved]
		}
		w.Opt(false, "timeout", name)
	}
	if t.CtEvents != 0 {
		w.Opt(false, "ctevents", ctEventNames.text(t.CtEvents))
	}
	if t.ExpEvents != 0 {
		w.Opt(false, "expevents", ctExpEventNames.text(t.ExpEvents))
	}
	if t.Flags&ctZoneMark != 0 || t.Zone != 0 {
		name := "zone"
		switch t.Flags & (ctZoneDirOrig | ctZoneDirRepl) {
		case ctZoneDirOrig:
			name = "zone-orig"
		case ctZoneDirRepl:
			name = "zone-reply"
		}
		if t.Flags&ctZoneMark != 0 {
			w.Opt(false, name, "mark")
		} else {
			w.OptUint(false, name, uint64(t.Zone))
		}
	}
}

// struct xt_ct_target_info_v1 (revision 2): flags@0 zone@2 (u16),
// ct_events@4 exp_events@8 (u32), helper[16]@12, timeout[32]@28, ct@64
// (kernel pointer, written as zero). -j NOTRACK is this struct with flags
// NOTRACK|NOTRACK_ALIAS and everything else zero.
const (
	ctSize       = 72
	ctHelperLen  = 16
	ctTimeoutLen = 32
)

func (t *CT) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U16(0, t.Flags)
	w.U16(2, t.Zone)
	w.U32(4, t.CtEvents)
	w.U32(8, t.ExpEvents)
	if err := w.String(12, ctHelperLen, t.Helper); err != nil {
		return fmt.Errorf("helper name: %w", err)
	}
	if err := w.String(28, ctTimeoutLen, t.Timeout); err != nil {
		return fmt.Errorf("timeout policy name: %w", err)
	}
	return nil
}

// UnmarshalPayload reads revision 2; a payload with NOTRACK_ALIAS becomes
// a value that prints as -j NOTRACK. The kernel hands back only the first
// bytes of the timeout name (see ctTimeoutSaved), NUL-terminated by the
// zeroed rest.
func (t *CT) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.Flags, t.Zone = r.U16(0), r.U16(2)
	t.CtEvents, t.ExpEvents = r.U32(4), r.U32(8)
	t.Helper = r.String(12, ctHelperLen)
	t.Timeout = r.String(28, ctTimeoutLen)
	return r.Err()
}
