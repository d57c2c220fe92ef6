package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"miniais/api"
	"miniais/api/wire"
)

// clusterCommand is "ais cluster": membership of the cluster's targets.
func clusterCommand(env *Env) *ucli.Command {
	node := func(name, usage, action string, fl ...ucli.Flag) *ucli.Command {
		return &ucli.Command{
			Name: name, Usage: usage, ArgsUsage: "NODE_ID",
			Flags:  withTraceFlags(fl...),
			Action: action0(env, action),
		}
	}
	return &ucli.Command{
		Name:  "cluster",
		Usage: "change the cluster's membership",
		Subcommands: []*ucli.Command{
			{
				Name:  "add-remove-nodes",
				Usage: "put a target in maintenance, bring it back, shut it down, or decommission it",
				Subcommands: []*ucli.Command{
					node("start-maintenance", "move a target's objects to the others and take it out of placement",
						wire.ActStartMaintenance),
					node("stop-maintenance", "bring a target in maintenance back into placement (its objects move back)",
						wire.ActStopMaintenance),
					node("shutdown", "put a target in maintenance, then stop it (it stays in the cluster map)",
						wire.ActShutdownNode),
					node("decommission", "move a target's objects away, remove it from the cluster and wipe its state",
						wire.ActDecommissionNode,
						&ucli.BoolFlag{Name: "rm-user-data", Usage: "also delete the target's object data"},
						&ucli.BoolFlag{Name: "keep-initial-config", Usage: "keep the configuration the target was started with"},
						&ucli.BoolFlag{Name: "no-shutdown", Usage: "keep the target running once it is out of the cluster"},
						&ucli.BoolFlag{Name: "force", Usage: "remove a target that is down before it has been down for the cluster's timeout.remove_down_after (its objects are lost)"},
					),
				},
			},
		},
	}
}

// action0 is the Action of a membership subcommand.
func action0(env *Env, act string) ucli.ActionFunc {
	return action(env, 1, 1, func(r *runner, c *ucli.Context) error {
		id := c.Args().First()
		opts := api.NodeOptions{}
		if act == wire.ActDecommissionNode {
			opts = api.NodeOptions{RmUserData: c.Bool("rm-user-data"), KeepInitialConfig: c.Bool("keep-initial-config"),
				NoShutdown: c.Bool("no-shutdown"), Force: c.Bool("force")}
		}
		rid, err := r.client.NodeAction(r.ctx, act, id, opts)
		if err != nil {
			return err
		}
		if rid == "" {
			fmt.Fprintf(r.stdout, "%s %s: done, no rebalance needed\n", c.Command.Name, id)
			return nil
		}
		fmt.Fprintf(r.stdout, "Started rebalance %q (%s %s); see \"ais show job %s\"\n", rid, c.Command.Name, id, rid)
		return nil
	})
}
