package ops

import (
	"io"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
)

// SaveOptions say what Save reads and how it prints it.
type SaveOptions struct {
	Family table.Family
	Open   Opener
	// Tables are the tables to save; nil: every table the kernel has.
	Tables []string
	Encode format.EncodeOptions
}

// Save writes the kernel's tables to w in iptables-save format, rule by
// rule as the backend reads them, so that the ruleset is never held
// whole. A backend whose read may start again (StreamRestarts) takes
// back the text written so far through w's Reset method, which a file
// written atomically has; any other w then gets the text only once the
// read is complete, held until then.
func Save(w io.Writer, opt SaveOptions) error {
	b, _, err := opt.Open("", 0)
	if err != nil {
		return err
	}
	if _, ok := w.(interface{ Reset() }); ok || !b.StreamRestarts() {
		return b.Stream(opt.Family, opt.Tables, format.NewEncoder(w, opt.Encode))
	}
	var held chunks
	if err := b.Stream(opt.Family, opt.Tables, format.NewEncoder(&held, opt.Encode)); err != nil {
		return err
	}
	_, err = held.WriteTo(w)
	return err
}

// chunks is an in-memory file of fixed-size pieces: unlike a bytes.Buffer
// it never copies what it holds to grow, so holding a 12 MB save costs
// 12 MB, not twice that.
type chunks struct {
	full [][]byte
	cur  []byte
}

const chunkLen = 1 << 20

func (c *chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.cur) == cap(c.cur) {
			if c.cur != nil {
				c.full = append(c.full, c.cur)
			}
			c.cur = make([]byte, 0, chunkLen)
		}
		k := copy(c.cur[len(c.cur):cap(c.cur)], p)
		c.cur = c.cur[:len(c.cur)+k]
		p = p[k:]
	}
	return n, nil
}

// Reset forgets everything written.
func (c *chunks) Reset() { *c = chunks{} }

// WriteTo writes everything to w.
func (c *chunks) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, b := range append(c.full, c.cur) {
		n, err := w.Write(b)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
