package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Cluster is the cluster match; it mirrors struct xt_cluster_match_info.
type Cluster struct {
	TotalNodes uint32
	NodeMask   uint32
	HashSeed   uint32
	Flags      uint32
}

const (
	clusterInvert   = 1 << 0 // XT_CLUSTER_F_INV
	clusterNodesMax = 32     // XT_CLUSTER_NODES_MAX
)

var clusterInfo = &table.ExtInfo{
	Name: "cluster", Kind: table.MatchKind, Family: table.BothFamilies, Size: clusterSize,
	Options: opts("cluster-total-nodes=", "!cluster-local-node=", "!cluster-local-nodemask=", "cluster-hash-seed="),
	New:     func(table.Family) table.Ext { return &Cluster{} },
}

func (m *Cluster) Info() *table.ExtInfo { return clusterInfo }
func (m *Cluster) Name() string         { return "cluster" }

func (m *Cluster) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "cluster-total-nodes":
		v, err := parseUint(a.Arg, 1, clusterNodesMax)
		if err != nil {
			return err
		}
		m.TotalNodes = uint32(v)
	case "cluster-local-node", "cluster-local-nodemask":
		// iptables takes 1-32 for the mask as well, so a mask it prints
		// for node 7 (0x00000040) cannot be read back; fw does the same.
		v, err := parseUint(a.Arg, 1, clusterNodesMax)
		if err != nil {
			return err
		}
		if a.Key() == "cluster-local-node" {
			m.NodeMask = 1 << (v - 1)
		} else {
			m.NodeMask = uint32(v)
		}
		if a.Invert {
			m.Flags |= clusterInvert
		}
	case "cluster-hash-seed":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.HashSeed = uint32(v)
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Cluster) Finish(c *table.FinishContext) error {
	for _, o := range []string{"cluster-total-nodes", "cluster-hash-seed"} {
		if !c.Seen.Has(o) {
			return fmt.Errorf("--%s is required", o)
		}
	}
	node, mask := c.Seen.Has("cluster-local-node"), c.Seen.Has("cluster-local-nodemask")
	switch {
	case node && mask:
		return fmt.Errorf("--cluster-local-node and --cluster-local-nodemask cannot be used together")
	case !node && !mask:
		return table.WithHint("e.g. --cluster-local-node 1", "--cluster-local-node or --cluster-local-nodemask is required")
	}
	if uint64(m.NodeMask) >= 1<<m.TotalNodes {
		if node {
			return fmt.Errorf("--cluster-local-node must not be more than --cluster-total-nodes (%d)", m.TotalNodes)
		}
		return fmt.Errorf("--cluster-local-nodemask %s names nodes beyond --cluster-total-nodes (%d)", fmt.Sprintf("0x%08x", m.NodeMask), m.TotalNodes)
	}
	return nil
}

func (m *Cluster) Print(w *table.Writer) {
	w.Opt(m.Flags&clusterInvert != 0, "cluster-local-nodemask", fmt.Sprintf("0x%08x", m.NodeMask))
	w.OptUint(false, "cluster-total-nodes", uint64(m.TotalNodes))
	w.Opt(false, "cluster-hash-seed", fmt.Sprintf("0x%08x", m.HashSeed))
}

// struct xt_cluster_match_info: total_nodes@0 node_mask@4 hash_seed@8
// flags@12 (u32 host order).
const clusterSize = 16

func (m *Cluster) layout() []field {
	return []field{{0, &m.TotalNodes}, {4, &m.NodeMask}, {8, &m.HashSeed}, {12, &m.Flags}}
}

func (m *Cluster) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Cluster) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
