package table

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/maphash"
	"slices"
)

// Digest is a fingerprint of what the kernel stores for a rule: its IP
// header, and for every match and the target the kernel name, revision
// and payload bytes, counters left out. Two rules with the same digest
// are the same rule to the kernel; spelling (names for numbers, option
// order, implicit matches, masks for prefixes, print-only aliases such as
// -m state for conntrack) cannot make two digests differ. It is 128 bits,
// so two different rules share one with odds of about 2^-64 per
// comparison: comparing digests stands in for comparing the rules, with
// no text made.
type Digest [2]uint64

var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// Digester computes digests with one reusable buffer.
type Digester struct {
	f      Family
	stable bool
	buf    []byte
}

// NewDigester returns a Digester for rules of family f whose digests are
// meant for this process only (fast, from a random seed).
func NewDigester(f Family) *Digester { return &Digester{f: f} }

// NewStableDigester returns a Digester whose digests are the same in
// every process (the first 128 bits of SHA-256), for digests kept in a
// file; they change only when DigestVersion does.
func NewStableDigester(f Family) *Digester { return &Digester{f: f, stable: true} }

// DigestVersion names the layout stable digests are made of: a file of
// them from another version is not to be trusted. 2: payloads lose their
// trailing zero bytes; 3: Normalizer forms.
const DigestVersion = 3

// Cached returns r's digest, taking a stable one from r.Digest when the
// rule carries it.
func (d *Digester) Cached(r *Rule) Digest {
	if d.stable && r.Digest != (Digest{}) {
		return r.Digest
	}
	return d.Digest(r)
}

// Digest returns r's digest, worked out from the rule (never r.Digest).
func (d *Digester) Digest(r *Rule) Digest {
	b := d.buf[:0]
	ip := &r.IP
	b = digestAddr(b, ip.Src)
	b = digestAddr(b, ip.Dst)
	// "-i +" matches every interface, as no -i does; the kernel stores
	// the two alike (legacy) or nearly (nft: a bare meta load).
	b = appendStr(b, anyIface(ip.In, ip.InvIn))
	b = appendStr(b, anyIface(ip.Out, ip.InvOut))
	flags := uint16(0)
	for i, on := range [...]bool{ip.InvSrc, ip.InvDst, ip.InvIn, ip.InvOut, ip.InvProto, ip.ProtoFlag, ip.Frag, ip.InvFrag} {
		if on {
			flags |= 1 << i
		}
	}
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = append(b, ip.Proto, byte(len(r.Matches)))
	for _, m := range r.Matches {
		b = d.appendExt(b, m)
	}
	switch t := r.Target.(type) {
	case nil:
		b = append(b, 0)
	case *Standard:
		b = append(b, 1, byte(t.Verdict))
	case *Jump:
		b = append(b, 2)
		if t.Goto {
			b[len(b)-1] = 3
		}
		b = appendStr(b, t.Chain)
	case Ext:
		b = append(b, 4)
		b = d.appendExt(b, t)
	default:
		b = append(b, 5)
		b = appendStr(b, t.Name())
	}
	d.buf = b
	if d.stable {
		sum := sha256.Sum256(b)
		return Digest{binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])}
	}
	return Digest{maphash.Bytes(digestSeeds[0], b), maphash.Bytes(digestSeeds[1], b)}
}

// appendExt appends an extension's kernel name, revision and payload; an
// extension that cannot be encoded (which a validated rule never has)
// is represented by its printed options instead.
func (d *Digester) appendExt(b []byte, e Ext) []byte {
	if a, ok := e.(Aliased); ok {
		e = a.Unaliased()
	}
	if n, ok := e.(Normalizer); ok {
		e = n.Normal(d.f)
	}
	info := e.Info()
	b = appendStr(b, info.KernelName())
	b = append(b, info.Revision)
	if p, ok := e.(Payload); ok {
		// The payload goes in behind a length, without its trailing
		// zero bytes: most payloads are mostly zeros (a comment is 256
		// bytes), and hashing them was most of a digest's cost.
		n := xtAlign(info.Size)
		at := len(b) + 2
		b = slices.Grow(b, 2+n)[:at+n]
		clear(b[at-2:])
		if p.PutPayload(d.f, b[at:at+n:at+n]) == nil {
			m := at + n
			for m-at >= 8 && binary.LittleEndian.Uint64(b[m-8:m]) == 0 {
				m -= 8
			}
			for m > at && b[m-1] == 0 {
				m--
			}
			binary.LittleEndian.PutUint16(b[at-2:], uint16(m-at))
			return append(b[:m], 1)
		}
		b = b[:at-2]
	}
	var w Writer
	e.Print(&w)
	return append(appendStr(b, w.String()), 0)
}

func anyIface(name string, inv bool) string {
	if name == "+" && !inv {
		return ""
	}
	return name
}

func appendStr(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func digestAddr(b []byte, a Addr) []byte {
	if a.IsZero() {
		return append(b, 0)
	}
	ip, mask := a.IP.As16(), a.Mask.As16()
	b = append(b, 1)
	b = append(b, ip[:]...)
	return append(b, mask[:]...)
}
