package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Comment is the comment match; it mirrors struct xt_comment_info (a
// 256-byte NUL-terminated string).
type Comment struct {
	Comment string
}

const commentMax = 255

var commentInfo = &table.ExtInfo{
	Name: "comment", Kind: table.MatchKind, Family: table.BothFamilies, Size: commentSize,
	Options: opts("comment="),
	New:     func(table.Family) table.Ext { return &Comment{} },
}

func (m *Comment) Info() *table.ExtInfo { return commentInfo }
func (m *Comment) Name() string         { return "comment" }

func (m *Comment) Parse(a *table.OptArgs) error {
	if len(a.Arg) > commentMax {
		return fmt.Errorf("comment is too long (%d bytes, at most %d)", len(a.Arg), commentMax)
	}
	m.Comment = a.Keep(a.Arg)
	return nil
}

func (m *Comment) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("comment") {
		return fmt.Errorf("--comment is required")
	}
	return nil
}

func (m *Comment) Print(w *table.Writer) { w.OptQuoted(false, "comment", m.Comment) }

// struct xt_comment_info: char comment[XT_MAX_COMMENT_LEN = 256].
const commentSize = 256

func (m *Comment) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, commentSize, m.Comment); err != nil {
		return fmt.Errorf("comment: %w", err)
	}
	return nil
}

func (m *Comment) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Comment = r.String(0, commentSize)
	return r.Err()
}
