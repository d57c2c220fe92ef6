package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"miniais/api"
	"miniais/cluster"
)

// showCluster is "ais show cluster": the nodes of the cluster map. An
// argument can only be a misspelt subcommand.
func showCluster(r *runner, c *ucli.Context) error {
	if c.Args().Present() {
		return usagef("unknown command %q (want smap, bmd or config)", c.Args().First())
	}
	m, err := r.client.ClusterMap(r.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Cluster %s, map version %d: %d proxy(ies), %d target(s)\n", dash(m.UUID), m.Version, len(m.Proxies), len(m.Targets))
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "ROLE\tNODE\tPUBLIC URL\tTRANSPORT\tSTATUS")
	row := func(n *cluster.Node) {
		status := "online"
		switch f := n.Flags; {
		case f&cluster.FlagDecommission != 0:
			status = "decommissioning"
		case f&cluster.FlagMaintenancePostRebalance != 0:
			status = "maintenance"
		case f&cluster.FlagMaintenance != 0:
			status = "entering maintenance (rebalancing)"
		}
		if n.Down() {
			status = "down" + strings.TrimPrefix(", "+status, ", online")
		}
		if m.Primary != nil && n.ID == m.Primary.ID {
			status += ", primary"
		}
		if n.Role == cluster.RoleTarget && !n.Down() {
			status += mountpathStatus(r, n.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Role, n.ID, dash(n.URL()), dash(n.TransportAddr()), status)
	}
	for _, id := range sortedKeys(m.Proxies) {
		row(m.Proxies[id])
	}
	for _, n := range m.TargetList() {
		row(n)
	}
	return tw.Flush()
}

// mountpathStatus is what "show cluster" adds to a target's status about
// its mountpaths: those disabled (by an operator or on a disk fault) and
// those leaving (their objects moving off), or that it could not ask.
func mountpathStatus(r *runner, id string) string {
	ml, err := r.client.Mountpaths(r.ctx, id)
	if err != nil {
		return ", mountpaths unknown"
	}
	out := ""
	if len(ml.Disabled) > 0 {
		out += ", mountpaths disabled: " + strings.Join(ml.Disabled, " ")
	}
	if len(ml.WaitingDD) > 0 {
		out += ", mountpaths leaving: " + strings.Join(ml.WaitingDD, " ")
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// nodeFlagNames name the bits of cluster.Node.Flags, lowest first.
var nodeFlagNames = []struct {
	bit  uint64
	name string
}{
	{cluster.FlagNonElectable, "non-electable"},
	{cluster.FlagIC, "ic"},
	{cluster.FlagMaintenance, "maintenance"},
	{cluster.FlagDecommission, "decommission"},
	{cluster.FlagMaintenancePostRebalance, "post-rebalance"},
}

// nodeFlags renders a node's flags and whether it is down ("-" for none).
func nodeFlags(n *cluster.Node) string {
	var out []string
	rest := n.Flags
	for _, f := range nodeFlagNames {
		if n.Flags&f.bit != 0 {
			out = append(out, f.name)
			rest &^= f.bit
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("%#x", rest))
	}
	if n.Down() {
		out = append(out, "down")
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

// showSmap is "ais show cluster smap": one row per node with its three
// networks and flags, the primary marked [P], then the map's identity.
func showSmap(r *runner, c *ucli.Context) error {
	m, err := r.client.ClusterMap(r.ctx)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(r.stdout, m)
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "NODE\tTYPE\tPUBLIC URL\tCONTROL URL\tDATA URL\tFLAGS")
	row := func(n *cluster.Node) {
		id := n.ID
		if m.Primary != nil && n.ID == m.Primary.ID {
			id += "[P]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, n.Role, dash(n.URL()), dash(n.ControlNet.DirectURL), dash(n.DataNet.DirectURL), nodeFlags(n))
	}
	for _, id := range sortedKeys(m.Proxies) {
		row(m.Proxies[id])
	}
	for _, n := range m.TargetList() {
		row(n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	primary := "-"
	if m.Primary != nil {
		primary = m.Primary.ID
	}
	fmt.Fprintf(r.stdout, "Primary proxy: %s\nProxies: %d, targets: %d, cluster map version %d, UUID %s, created %s\n",
		primary, len(m.Proxies), len(m.Targets), m.Version, dash(m.UUID), dash(m.CreationTime))
	return nil
}

// showBMD is "ais show cluster bmd": one row per bucket, then the
// metadata's version and UUID.
func showBMD(r *runner, c *ucli.Context) error {
	bmd, err := r.client.BucketMetadata(r.ctx)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(r.stdout, bmd)
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "BUCKET\tCREATED\tCHECKSUM\tVERSIONING")
	for _, name := range sortedKeys(bmd.Buckets) {
		p := bmd.Buckets[name]
		prov := p.Provider
		if prov == "" {
			prov = cluster.ProviderAIS
		}
		bck := cluster.Bucket{Provider: prov, Name: name}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\n", bck, formatAtime(fmt.Sprint(p.Created)), dash(p.Checksum.Type), p.Versioning.Enabled)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Buckets: %d, version %d, UUID %s\n", len(bmd.Buckets), bmd.Version, dash(bmd.UUID))
	return nil
}

// showClusterConfig is "ais show cluster config [KEY]".
func showClusterConfig(r *runner, c *ucli.Context) error {
	cfg, err := r.client.ClusterConfig(r.ctx)
	if err != nil {
		return err
	}
	return printFiltered(r.stdout, cfg, c.Args().First(), "cluster configuration", c.Bool("json"), nil)
}

// configCluster is "ais config cluster": with no argument or one KEY it
// shows the configuration (as "show cluster config"); with KEY=VALUE
// arguments, or KEY VALUE pairs, it sets them in one request, then reads
// the configuration back and shows what the keys hold now.
func configCluster(r *runner, c *ucli.Context) error {
	args := c.Args().Slice()
	withEq := slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "=") })
	if !withEq && len(args) <= 1 {
		if c.Bool("transient") {
			return usagef("--transient needs KEY=VALUE")
		}
		return showClusterConfig(r, c)
	}
	var sets []flatEntry
	switch {
	case withEq:
		var err error
		if sets, err = parseAssignments(args); err != nil {
			return err
		}
	case len(args)%2 != 0:
		return usagef("expected KEY=VALUE arguments or KEY VALUE pairs, got %d arguments", len(args))
	default:
		for i := 0; i < len(args); i += 2 {
			if slices.ContainsFunc(sets, func(e flatEntry) bool { return e.key == args[i] }) {
				return usagef("%q given twice", args[i])
			}
			sets = append(sets, flatEntry{args[i], args[i+1]})
		}
	}
	kvs := make(map[string]string, len(sets))
	for _, s := range sets {
		kvs[s.key] = s.val.(string)
	}
	if err := r.client.SetClusterConfig(r.ctx, kvs, api.SetConfigOptions{Transient: c.Bool("transient")}); err != nil {
		return err
	}
	cfg, err := r.client.ClusterConfig(r.ctx)
	if err != nil {
		return fmt.Errorf("the values were set, but reading them back failed: %w", err)
	}
	now := flatten(cfg)
	var shown []flatEntry
	for _, s := range sets {
		u := under(now, s.key)
		if len(u) == 0 {
			u = []flatEntry{{s.key, nil}}
		}
		shown = append(shown, u...)
	}
	if c.Bool("json") {
		m, err := nest(shown)
		if err != nil {
			return err
		}
		return printJSON(r.stdout, m)
	}
	fmt.Fprintln(r.stdout, "Updated the cluster configuration:")
	return printFlat(r.stdout, shown, nil)
}
