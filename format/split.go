package format

import "bytes"

// The first step of reading a file: cutting its text into chunks at line
// ends, numbered, so that each can be parsed on its own (a line means the
// same whatever chunk it is in).

// chunkSize is about how much text one chunk holds: big enough that
// handing chunks around costs nothing, small enough that a few of them
// in flight hold little.
const chunkSize = 64 << 10

// chunk is a piece of the input that ends at a line end (or the end of
// the input), and, once a worker has decoded it (decode.go), what its
// lines mean: items in line order, their errors apart.
type chunk struct {
	src       []byte
	firstLine int
	lines     int // newlines in src
	items     []lineItem
	errs      []itemErrs
	done      chan struct{} // closed once items and errs are filled in
}

// splitter cuts src into chunks, one at a time.
type splitter struct {
	src  []byte
	line int // number of the next chunk's first line
}

func newSplitter(src []byte) *splitter { return &splitter{src: src, line: 1} }

// next returns the next chunk, or nil at the end of the input.
func (s *splitter) next() *chunk {
	if len(s.src) == 0 {
		return nil
	}
	n := len(s.src)
	if n > chunkSize {
		n = chunkSize + bytes.IndexByte(s.src[chunkSize:], '\n') + 1
		if n == chunkSize { // no line end after the cut: one last chunk
			n = len(s.src)
		}
	}
	c := &chunk{src: s.src[:n:n], firstLine: s.line, done: make(chan struct{})}
	c.lines = bytes.Count(c.src, []byte("\n"))
	s.line += c.lines
	s.src = s.src[n:]
	return c
}

// lastLine is the number of the chunk's last line.
func (c *chunk) lastLine() int {
	last := c.firstLine + c.lines - 1
	if len(c.src) > 0 && c.src[len(c.src)-1] != '\n' {
		last++
	}
	return last
}
