package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Comment is the comment match; it mirrors struct xt_comment_info (a
// 256-byte NUL-terminated string).
type Comment struct {
	Comment string
}

const commentMax = 255

var commentInfo = &table.ExtInfo{
	Name: "comment", Kind: table.MatchKind, Family: table.BothFamilies,
	Options: opts("comment="),
	New:     func(table.Family) table.Ext { return &Comment{} },
}

func (m *Comment) Info() *table.ExtInfo { return commentInfo }
func (m *Comment) Name() string         { return "comment" }

func (m *Comment) Parse(a *table.OptArgs) error {
	if len(a.Arg) > commentMax {
		return fmt.Errorf("comment is too long (%d bytes, at most %d)", len(a.Arg), commentMax)
	}
	m.Comment = a.Arg
	return nil
}

func (m *Comment) Finish(c *table.FinishContext) error {
	if !c.Seen["comment"] {
		return fmt.Errorf("--comment is required")
	}
	return nil
}

func (m *Comment) Print(w *table.Writer) { w.OptQuoted(false, "comment", m.Comment) }
