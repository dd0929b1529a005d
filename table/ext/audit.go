package ext

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// AUDIT records packets in the audit log; it mirrors struct
// xt_audit_info.
type AUDIT struct {
	Type uint8
}

// auditTypes are the XT_AUDIT_TYPE_* values in order.
var auditTypes = []string{"accept", "drop", "reject"}

var auditTargetInfo = &table.ExtInfo{
	Name: "AUDIT", Kind: table.TargetKind, Family: table.BothFamilies, Size: auditSize,
	Options: opts("type="),
	New:     func(table.Family) table.Ext { return &AUDIT{} },
}

func (t *AUDIT) Info() *table.ExtInfo { return auditTargetInfo }
func (t *AUDIT) Name() string         { return "AUDIT" }

func (t *AUDIT) Parse(a *table.OptArgs) error {
	if a.Key() != "type" {
		return unknownOption(a)
	}
	for i, n := range auditTypes {
		if strings.EqualFold(a.Arg, n) {
			t.Type = uint8(i)
			return nil
		}
	}
	return table.WithHint("types are accept, drop and reject", "invalid audit type %q", a.Arg)
}

func (t *AUDIT) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("type") {
		return table.WithHint("add --type accept, drop or reject", "--type is required")
	}
	return nil
}

func (t *AUDIT) Print(w *table.Writer) {
	if int(t.Type) < len(auditTypes) {
		w.Opt(false, "type", auditTypes[t.Type])
	}
}

// struct xt_audit_info: type u8@0.
const auditSize = 1

func (t *AUDIT) layout() []field { return []field{{0, &t.Type}} }

func (t *AUDIT) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *AUDIT) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
