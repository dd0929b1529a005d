// Package wire is the kernel's ipset protocol over nfnetlink
// (NFNL_SUBSYS_IPSET), written by hand from the uapi header
// linux/netfilter/ipset/ip_set.h: the requests fw sends (protocol and
// type queries, CREATE, ADD of many members at once, DESTROY, FLUSH,
// RENAME, SWAP, the SAVE dump) and the replies it reads (the dump's
// headers and members, acknowledgements and errors with the element that
// failed). It makes no system calls (ipset/kernel does), so every set
// type is tested here without a kernel, also the ones a kernel may lack.
//
// Every length is checked before it is read; a message that does not
// fit is an error, never a panic. No library serves: vishvananda/netlink
// and digineo/go-ipset know a few types and options, not enough to
// reproduce a set exactly (bucketsize, initval, bitmask, markmask,
// skbinfo, forceadd, every type's elements).
package wire
