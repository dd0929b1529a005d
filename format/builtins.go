package format

// optID names the built-in options of the iptables command line.
type optID uint8

const (
	oNone optID = iota
	// commands
	oAppend
	oCheck
	oDelete
	oInsert
	oReplace
	oList
	oListRules
	oFlush
	oZero
	oNewChain
	oDeleteChain
	oRename
	oPolicy
	// rule parameters
	oSource
	oDest
	oProto
	oIn
	oOut
	oJump
	oGoto
	oMatch
	oFrag
	oCounters
	// other
	oTable
	oIPv4
	oIPv6
	oNumeric
	oVerbose
	oExact
	oWait
	oWaitInterval
	oLineNumbers
	oModprobe
	oHelp
	oVersion
)

type builtinOpt struct {
	long  string
	short byte
	id    optID
	arg   bool
}

// builtins is iptables' own option table, in its order: getopt prefers an
// exact name and otherwise accepts an unambiguous prefix.
var builtins = []builtinOpt{
	{"append", 'A', oAppend, true},
	{"delete", 'D', oDelete, true},
	{"check", 'C', oCheck, true},
	{"insert", 'I', oInsert, true},
	{"replace", 'R', oReplace, true},
	{"list", 'L', oList, false},
	{"list-rules", 'S', oListRules, false},
	{"flush", 'F', oFlush, false},
	{"zero", 'Z', oZero, false},
	{"new-chain", 'N', oNewChain, true},
	{"delete-chain", 'X', oDeleteChain, false},
	{"rename-chain", 'E', oRename, true},
	{"policy", 'P', oPolicy, true},
	{"source", 's', oSource, true},
	{"src", 0, oSource, true},
	{"destination", 'd', oDest, true},
	{"dst", 0, oDest, true},
	{"protocol", 'p', oProto, true},
	{"in-interface", 'i', oIn, true},
	{"jump", 'j', oJump, true},
	{"table", 't', oTable, true},
	{"match", 'm', oMatch, true},
	{"numeric", 'n', oNumeric, false},
	{"out-interface", 'o', oOut, true},
	{"verbose", 'v', oVerbose, false},
	{"wait", 'w', oWait, false},
	{"wait-interval", 'W', oWaitInterval, false},
	{"exact", 'x', oExact, false},
	{"fragment", 'f', oFrag, false},
	{"version", 'V', oVersion, false},
	{"help", 'h', oHelp, false},
	{"line-numbers", 0, oLineNumbers, false},
	{"modprobe", 'M', oModprobe, true},
	{"set-counters", 'c', oCounters, true},
	{"goto", 'g', oGoto, true},
	{"ipv4", '4', oIPv4, false},
	{"ipv6", '6', oIPv6, false},
}

var builtinByLong = func() map[string]*builtinOpt {
	m := map[string]*builtinOpt{}
	for i := range builtins {
		m[builtins[i].long] = &builtins[i]
	}
	return m
}()

var builtinByShort = func() (m [256]*builtinOpt) {
	for i := range builtins {
		if b := &builtins[i]; b.short != 0 {
			m[b.short] = b
		}
	}
	return m
}()

func builtinName(id optID) string {
	if int(id) < len(builtinNames) && builtinNames[id] != "" {
		return builtinNames[id]
	}
	return "?"
}

// builtinNames is how messages name each option: its short form if it
// has one.
var builtinNames = func() []string {
	names := make([]string, oVersion+1)
	for _, b := range builtins {
		if names[b.id] != "" {
			continue
		}
		if b.short != 0 {
			names[b.id] = "-" + string(b.short)
		} else {
			names[b.id] = "--" + b.long
		}
	}
	return names
}()
