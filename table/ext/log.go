package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// LOG is the LOG target, the same kernel extension name and layout in
// both families; it mirrors struct xt_log_info.
type LOG struct {
	Level    uint8
	LogFlags uint8
	Prefix   string // char prefix[30]
}

const (
	logDefaultLevel = 4  // LOG_WARNING
	logPrefixMax    = 29 // sizeof(prefix) - 1

	logTCPSeq    = 0x01
	logTCPOpt    = 0x02
	logIPOpt     = 0x04
	logUID       = 0x08
	logMACDecode = 0x20
)

// logLevels are the syslog level names iptables accepts besides 0-7.
var logLevels = map[string]uint8{
	"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "error": 3,
	"warning": 4, "notice": 5, "info": 6, "debug": 7,
}

var logFlagOpts = []struct {
	name string
	bit  uint8
}{
	{"log-tcp-sequence", logTCPSeq}, {"log-tcp-options", logTCPOpt}, {"log-ip-options", logIPOpt},
	{"log-uid", logUID}, {"log-macdecode", logMACDecode},
}

var logTargetInfo = &table.ExtInfo{
	Name: "LOG", Kind: table.TargetKind, Family: table.BothFamilies, Size: logSize,
	Options: opts("log-level=", "log-prefix=", "log-tcp-sequence", "log-tcp-options", "log-ip-options", "log-uid", "log-macdecode"),
	New:     func(table.Family) table.Ext { return &LOG{Level: logDefaultLevel} },
}

func (t *LOG) Info() *table.ExtInfo { return logTargetInfo }
func (t *LOG) Name() string         { return "LOG" }

func (t *LOG) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "log-level":
		v, ok := table.ParseUint(a.Arg, 0, 7)
		if !ok {
			l, known := logLevels[a.Arg]
			if !known {
				return table.WithHint("levels are 0-7 or emerg, alert, crit, error, warning, notice, info, debug", "unknown log level %q", a.Arg)
			}
			v = uint64(l)
		}
		t.Level = uint8(v)
	case "log-prefix":
		p, err := logPrefix(a.Arg, logPrefixMax)
		if err != nil {
			return err
		}
		t.Prefix = a.Keep(p)
	default:
		for _, f := range logFlagOpts {
			if f.name == a.Key() {
				t.LogFlags |= f.bit
				return nil
			}
		}
		return unknownOption(a)
	}
	return nil
}

// logPrefix checks a LOG or NFLOG prefix. iptables cuts a prefix longer
// than the kernel field without a word, so the log lines would not say
// what the file says: fw refuses it instead.
func logPrefix(s string, max int) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty prefix")
	}
	if strings.Contains(s, "\n") {
		return "", fmt.Errorf("newlines are not allowed in a prefix")
	}
	if len(s) > max {
		return "", table.WithHint(fmt.Sprintf("shorten it to %d bytes", max), "prefix %q is too long (%d bytes, at most %d)", s, len(s), max)
	}
	return s, nil
}

func (t *LOG) Finish(*table.FinishContext) error { return nil }

func (t *LOG) Print(w *table.Writer) {
	if t.Prefix != "" {
		w.OptQuoted(false, "log-prefix", t.Prefix)
	}
	if t.Level != logDefaultLevel {
		w.OptUint(false, "log-level", uint64(t.Level))
	}
	for _, f := range logFlagOpts {
		if t.LogFlags&f.bit != 0 {
			w.Flag(false, f.name)
		}
	}
}

// struct xt_log_info: level u8@0 logflags u8@1 prefix[30]@2.
const logSize = 32

func (t *LOG) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U8(0, t.Level)
	w.U8(1, t.LogFlags)
	if err := w.String(2, logPrefixMax+1, t.Prefix); err != nil {
		return fmt.Errorf("log prefix: %w", err)
	}
	return nil
}

func (t *LOG) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.Level, t.LogFlags = r.U8(0), r.U8(1)
	t.Prefix = r.String(2, logPrefixMax+1)
	return r.Err()
}
