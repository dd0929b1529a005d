// Package ipset is the model of the kernel's IP sets and their text:
// sets, their options and members, the format of ipset's save and
// restore ("create NAME TYPE [options]", "add NAME ELEMENT [options]"),
// and the difference between two states of the sets. It makes no system
// calls: ipset/kernel speaks to the kernel (through the codec in
// ipset/wire), and this package is tested without one.
//
// Decisions:
//
//   - A parsed set is canonical: what the kernel would report after
//     ipset restore read the same lines. Defaults are filled in (family
//     inet, hashsize 1024, maxelem 65536, bucketsize 12, list:set size 8,
//     markmask 0xffffffff; a member of a set with timeouts gets the
//     set's timeout, of a set with counters zero counters), sizes are
//     rounded as the kernel rounds them (hashsize to a power of two of at
//     least 64, bucketsize to an even number from 2 to 12, size to at
//     least 4), a bitmap:ip range is widened to its netmask, addresses
//     are masked (netmask, bitmask, a network's prefix, markmask), and an
//     IPv4 range or network is split into the elements the kernel stores
//     (addresses, or for a network part the networks that cover the
//     range), in the kernel's order. So Print(Parse(x)) is a fixpoint, a
//     parsed file compares with a listing of the kernel, and the codec
//     sends one element per member.
//   - The printer writes ipset's save format byte for byte, with one
//     exception: ipset never writes forceadd (libipset does not map the
//     kernel's flag back), so a set it saves loses forceadd on restore;
//     fw writes it where ipset's create order has it.
//   - Names are read as ipset reads them: protocols and services from
//     /etc/protocols and /etc/services, ICMP types from ipset's lists
//     (a prefix of a name will do). Host names are not resolved and
//     inet_aton's shorthands ("10.1", octal "010") are refused with a
//     hint: a set file states addresses.
//   - A file states whole sets: every set it adds to is created in it,
//     and it has no del, flush, destroy, rename or swap lines. An
//     element added twice, members beyond maxelem (even with forceadd,
//     where the kernel would drop members at random) or beyond a
//     list:set's size, and options ipset ignores (probes, resize, gc)
//     are errors with the line and column.
//   - Diff compares definitions without the kernel's own tuning
//     (hashsize and bucketsize grow with a set; initval is a random seed
//     unless given) and members as sets of their element and the flags
//     that define them (nomatch, comment, skbinfo), not their timeouts
//     and counters, which run on in the kernel; a list:set's order is
//     part of it.
//
// Sets and rules on disk (docs/ipset.md): a companion file
// rather than a marked section of the rules file. iptables-restore
// refuses create and add lines and ipset restore refuses rules, so only
// a separate file stays readable by both tools as it is; one set file
// serves the rules of both families (sets are not per family);
// ipset-persistent's /etc/iptables/ipsets is the natural default, so a
// host that used it moves without a step; and fw-save -f writes the set
// file and the rules file each atomically, the sets first.
package ipset
