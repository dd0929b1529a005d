package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// CHECKSUM fills in checksums the stack left out (for old DHCP clients
// behind virtual NICs); it mirrors struct xt_CHECKSUM_info.
type CHECKSUM struct {
	Operation uint8
}

const checksumFill = 0x01 // XT_CHECKSUM_OP_FILL

var checksumTargetInfo = &table.ExtInfo{
	Name: "CHECKSUM", Kind: table.TargetKind, Family: table.BothFamilies, Size: checksumSize,
	Options: opts("checksum-fill"),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &CHECKSUM{} },
}

func (t *CHECKSUM) Info() *table.ExtInfo { return checksumTargetInfo }
func (t *CHECKSUM) Name() string         { return "CHECKSUM" }

func (t *CHECKSUM) Parse(a *table.OptArgs) error {
	if a.Key() != "checksum-fill" {
		return unknownOption(a)
	}
	t.Operation |= checksumFill
	return nil
}

// Finish: the kernel refuses an operation of 0, so the only option is
// required.
func (t *CHECKSUM) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("checksum-fill") {
		return fmt.Errorf("--checksum-fill is required")
	}
	return nil
}

func (t *CHECKSUM) Print(w *table.Writer) {
	if t.Operation&checksumFill != 0 {
		w.Flag(false, "checksum-fill")
	}
}

// struct xt_CHECKSUM_info: operation u8@0.
const checksumSize = 1

func (t *CHECKSUM) layout() []field { return []field{{0, &t.Operation}} }

func (t *CHECKSUM) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *CHECKSUM) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
