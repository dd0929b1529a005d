package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Secmark is the SECMARK target; it mirrors struct
// xt_secmark_target_info_v1 without the secid the kernel computes from the
// context.
type Secmark struct {
	Mode   uint8
	SecCtx string // char[256]
}

const (
	secmarkModeSel = 1
	secmarkCtxMax  = 255
)

var secmarkTargetInfo = &table.ExtInfo{
	Name: "SECMARK", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 1, Size: secmarkSize,
	Options: opts("selctx="),
	Tables:  []string{"mangle", "security"},
	New:     func(table.Family) table.Ext { return &Secmark{} },
}

func (t *Secmark) Info() *table.ExtInfo { return secmarkTargetInfo }
func (t *Secmark) Name() string         { return "SECMARK" }

func (t *Secmark) Parse(a *table.OptArgs) error {
	if a.Key() != "selctx" {
		return unknownOption(a)
	}
	// iptables cuts a longer context to the field size without a word.
	if len(a.Arg) > secmarkCtxMax {
		return fmt.Errorf("security context is too long (%d bytes, at most %d)", len(a.Arg), secmarkCtxMax)
	}
	t.Mode, t.SecCtx = secmarkModeSel, a.Keep(a.Arg)
	return nil
}

func (t *Secmark) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("selctx") {
		return table.WithHint("e.g. --selctx system_u:object_r:ssh_server_packet_t:s0", "--selctx is required")
	}
	return nil
}

// Print writes the context bare, as iptables does.
func (t *Secmark) Print(w *table.Writer) {
	if t.Mode == secmarkModeSel {
		w.Opt(false, "selctx", t.SecCtx)
	}
}

// struct xt_secmark_target_info_v1: mode@0 (u8), secctx[256]@1, 3 bytes of
// padding, secid@260 (u32 the kernel computes from the context; written as
// zero).
const (
	secmarkSize   = 264
	secmarkCtxLen = 256
)

func (t *Secmark) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U8(0, t.Mode)
	if err := w.String(1, secmarkCtxLen, t.SecCtx); err != nil {
		return fmt.Errorf("security context: %w", err)
	}
	return nil
}

func (t *Secmark) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.Mode = r.U8(0)
	t.SecCtx = r.String(1, secmarkCtxLen)
	return r.Err()
}
