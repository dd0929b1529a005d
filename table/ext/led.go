package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// LED is the LED target; it mirrors struct xt_led_info (without the
// kernel's private pointer). ID holds the whole trigger name, which
// iptables builds as "netfilter-" followed by --led-trigger-id.
type LED struct {
	ID          string // char id[27]
	AlwaysBlink uint8
	Delay       uint32 // milliseconds
}

const (
	ledIDPrefix = "netfilter-"
	// ledIDMax leaves room for the prefix and the NUL in id[27].
	ledIDMax = 27 - len(ledIDPrefix) - 1
)

var ledTargetInfo = &table.ExtInfo{
	Name: "LED", Kind: table.TargetKind, Family: table.BothFamilies, Size: ledSize,
	Options: opts("led-trigger-id=", "led-delay=", "led-always-blink"),
	New:     func(table.Family) table.Ext { return &LED{} },
}

func (t *LED) Info() *table.ExtInfo { return ledTargetInfo }
func (t *LED) Name() string         { return "LED" }

func (t *LED) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "led-trigger-id":
		if len(a.Arg) > ledIDMax {
			return fmt.Errorf("trigger id %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), ledIDMax)
		}
		t.ID = ledIDPrefix + a.Arg
	case "led-delay":
		// iptables takes anything starting with "inf" as "forever"
		// (0xffffffff), but saves every delay with printf("%d"), so
		// "inf" and delays from 2^31 ms on come out negative and cannot
		// be restored; fw refuses them.
		if len(a.Arg) >= 3 && strings.EqualFold(a.Arg[:3], "inf") {
			return table.WithHint("give a delay in milliseconds up to 2147483647", "--led-delay %q cannot be saved by iptables (it prints -1)", a.Arg)
		}
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		if v > 0x7fffffff {
			return table.WithHint("give a delay in milliseconds up to 2147483647", "--led-delay %q cannot be saved by iptables (it prints a negative number)", a.Arg)
		}
		t.Delay = uint32(v)
	case "led-always-blink":
		t.AlwaysBlink = 1
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *LED) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("led-trigger-id") {
		return fmt.Errorf("--led-trigger-id is required")
	}
	return nil
}

// Print quotes the trigger id always, escaping '"' and '\' only, as
// iptables does.
func (t *LED) Print(w *table.Writer) {
	id := strings.TrimPrefix(t.ID, ledIDPrefix)
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(id); i++ {
		if id[i] == '"' || id[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(id[i])
	}
	b.WriteByte('"')
	w.Opt(false, "led-trigger-id", b.String())
	if t.Delay != 0 {
		w.Opt(false, "led-delay", fmt.Sprint(int32(t.Delay)))
	}
	if t.AlwaysBlink != 0 {
		w.Flag(false, "led-always-blink")
	}
}

// struct xt_led_info: id[27]@0 always_blink u8@27 delay u32@28 (host
// order), then the kernel's internal_data pointer @32 (aligned(8)),
// written zero and returned zeroed.
const ledSize = 40

func (t *LED) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, 27, t.ID); err != nil {
		return fmt.Errorf("LED trigger id: %w", err)
	}
	w.U8(27, t.AlwaysBlink)
	w.U32(28, t.Delay)
	return nil
}

func (t *LED) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.ID = r.String(0, 27)
	t.AlwaysBlink = r.U8(27)
	t.Delay = r.U32(28)
	return r.Err()
}
