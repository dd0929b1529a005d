package ext

import "github.com/fwkit/fw/table"

// TRACE marks packets for the kernel's rule tracing. It has no options and
// no payload.
type TRACE struct{}

// traceTargetInfo: the kernel only accepts TRACE in the raw table, the
// first a packet traverses.
var traceTargetInfo = &table.ExtInfo{
	Name: "TRACE", Kind: table.TargetKind, Family: table.BothFamilies, Size: traceSize,
	Tables: []string{"raw"},
	New:    func(table.Family) table.Ext { return &TRACE{} },
}

func (t *TRACE) Info() *table.ExtInfo              { return traceTargetInfo }
func (t *TRACE) Name() string                      { return "TRACE" }
func (t *TRACE) Parse(a *table.OptArgs) error      { return unknownOption(a) }
func (t *TRACE) Finish(*table.FinishContext) error { return nil }
func (t *TRACE) Print(*table.Writer)               {}

// traceSize: the kernel's TRACE has no targetsize, so the target is the
// bare 32-byte header.
const traceSize = 0

func (t *TRACE) PutPayload(table.Family, []byte) error       { return nil }
func (t *TRACE) UnmarshalPayload(table.Family, []byte) error { return nil }
