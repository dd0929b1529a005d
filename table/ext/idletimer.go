package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// IdleTimer is the IDLETIMER target, revision 1; it mirrors struct
// idletimer_tg_info_v1 (without the kernel's private timer pointer).
type IdleTimer struct {
	Timeout uint32
	Label   string // char label[28]
	// SendNlMsg exists in the struct for Android's benefit; iptables
	// 1.8.9 neither sets nor prints it.
	SendNlMsg uint8
	TimerType uint8
}

const (
	idletimerLabelMax = 27 // MAX_IDLETIMER_LABEL_SIZE - 1
	idletimerAlarm    = 1  // XT_IDLETIMER_ALARM
	// idletimerTimeoutMax: the kernel refuses timeouts whose value in
	// milliseconds would not fit an int (timeout >= INT_MAX / 1000).
	idletimerTimeoutMax = 2147483647/1000 - 1
)

var idletimerTargetInfo = &table.ExtInfo{
	Name: "IDLETIMER", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 1, Size: idletimerSize,
	Options: opts("timeout=", "label=", "alarm"),
	New:     func(table.Family) table.Ext { return &IdleTimer{} },
}

func (t *IdleTimer) Info() *table.ExtInfo { return idletimerTargetInfo }
func (t *IdleTimer) Name() string         { return "IDLETIMER" }

func (t *IdleTimer) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "timeout":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		if v == 0 || v > idletimerTimeoutMax {
			return fmt.Errorf("timeout %q is out of the range the kernel accepts (1 to %d seconds)", a.Arg, idletimerTimeoutMax)
		}
		t.Timeout = uint32(v)
	case "label":
		// iptables cuts a long label to 27 bytes without a word, which
		// would merge timers meant to be distinct; fw refuses it.
		if len(a.Arg) > idletimerLabelMax {
			return fmt.Errorf("label %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), idletimerLabelMax)
		}
		if err := checkIdletimerLabel(a.Arg); err != nil {
			return err
		}
		t.Label = a.Keep(a.Arg)
	case "alarm":
		t.TimerType = idletimerAlarm
	default:
		return unknownOption(a)
	}
	return nil
}

// checkIdletimerLabel applies the kernel's rules: the label names a file in
// /sys/class/xt_idletimer/timers, so it must be a valid file name that does
// not collide with the entries sysfs keeps there.
func checkIdletimerLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty label")
	case l == "." || l == ".." || strings.Contains(l, "/"):
		return fmt.Errorf("label %q is not a valid file name, which the kernel needs (it becomes a sysfs file)", l)
	case l == "power" || l == "uevent" || l == "subsystem":
		return fmt.Errorf("label %q is reserved: sysfs already has a file of that name where the kernel puts timers", l)
	case !isBare(l):
		// iptables-save prints the label unquoted, so this one would not
		// read back.
		return fmt.Errorf("label %q contains a blank or a double quote, which iptables-save cannot write back", l)
	}
	return nil
}

func (t *IdleTimer) Finish(c *table.FinishContext) error {
	for _, o := range []string{"timeout", "label"} {
		if !c.Seen.Has(o) {
			return fmt.Errorf("--%s is required", o)
		}
	}
	return nil
}

// Check is the kernel's rule about shared timers: IDLETIMER targets with
// the same label share one timer, created by the first of them, and a
// later one whose timer type (--alarm or not) differs is refused (a
// different timeout is taken and restarts the timer). Labels are global
// to the machine, across tables, families and network namespaces; fw sees
// one table, so a clash with timers outside it shows only when the kernel
// refuses the commit.
func (t *IdleTimer) Check(c *table.CheckContext) error {
	e, r := earlierConflict(c, t, func(e table.Ext) bool {
		o, ok := e.(*IdleTimer)
		return ok && o.Label == t.Label && o.TimerType != t.TimerType
	})
	if e == nil {
		return nil
	}
	was, is := "with", "without"
	if t.TimerType == idletimerAlarm {
		was, is = is, was
	}
	return table.WithHint("the kernel keeps one timer per label and will not change its type; use another label",
		"IDLETIMER label %q was already used %s --alarm%s, here it is %s", t.Label, was, ruleWhere(r), is)
}

func (t *IdleTimer) Print(w *table.Writer) {
	w.OptUint(false, "timeout", uint64(t.Timeout))
	w.Opt(false, "label", t.Label)
	if t.TimerType == idletimerAlarm {
		w.Flag(false, "alarm")
	}
}

// struct idletimer_tg_info_v1: timeout u32@0 (host order) label[28]@4
// send_nl_msg u8@32 timer_type u8@33, 6 bytes padding, then the kernel's
// timer pointer @40 (aligned(8)), written zero and returned zeroed (the
// kernel's usersize stops before it).
const idletimerSize = 48

func (t *IdleTimer) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, t.Timeout)
	if err := w.String(4, idletimerLabelMax+1, t.Label); err != nil {
		return fmt.Errorf("IDLETIMER label: %w", err)
	}
	w.U8(32, t.SendNlMsg)
	w.U8(33, t.TimerType)
	return nil
}

func (t *IdleTimer) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.Timeout = r.U32(0)
	t.Label = r.String(4, idletimerLabelMax+1)
	t.SendNlMsg, t.TimerType = r.U8(32), r.U8(33)
	return r.Err()
}
