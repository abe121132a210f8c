"""``python -m netwatch.lab INVENTORY [--scenario FILE] [--table NAME] [--queue N]``.

Prints one line ``ready {LabInfo as JSON}`` on stdout once every device answers,
logs to stderr, and serves until SIGTERM or Ctrl-C, removing its nftables table on
the way out. Exit 2 for an invalid inventory or scenario, 1 when the lab cannot start.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from netwatch.inventory import (
    Inventory,
    InventoryError,
    load_command_inventory,
    resolve_inventory_path,
    use_demo_secrets,
)
from netwatch.lab.lab import DEFAULT_QUEUE, DEFAULT_TABLE, LabError, LabInfo, run_lab
from netwatch.lab.scenario import Scenario, ScenarioError, load_scenario
from netwatch.runtime import run_async, setup_logging

EXIT_INVALID = 2


def serve(inventory: Inventory, scenario: str | Path | None, *, table: str = DEFAULT_TABLE,
          queue: int = DEFAULT_QUEUE, firewall: bool = True) -> int:
    """Run the lab for ``netwatch simulate``; returns the exit status."""
    setup_logging("info", text_format="netwatch lab: %(levelname)s: %(message)s")
    loaded: Scenario | None = None
    if scenario is not None:
        try:
            loaded = load_scenario(scenario, inventory)
        except ScenarioError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"{scenario}: {len(exc.problems)} problem(s); nothing started", file=sys.stderr)
            return EXIT_INVALID

    def ready(info: LabInfo) -> None:
        print("ready " + json.dumps(info.to_json()), flush=True)
        logging.getLogger("netwatch.lab").info(
            "%d devices up in %.2f s (%s), responders %s, faults %s; Ctrl-C stops",
            info.devices, info.startup_seconds, info.event_loop, info.responders, info.faults)

    try:
        run_async(run_lab(inventory, loaded, ready=ready, table=table, queue=queue,
                          firewall=firewall))
    except LabError as exc:
        print(f"netwatch lab: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netwatch.lab", description=__doc__.split(
        "\n")[0])
    parser.add_argument("inventory", nargs="?", help="inventory.yaml (default: as netwatch check)")
    parser.add_argument("--scenario", help="faults to play (YAML)")
    parser.add_argument("--table", default=DEFAULT_TABLE, help="the lab's nftables table")
    parser.add_argument("--queue", type=int, default=DEFAULT_QUEUE, help="the lab's NFQUEUE")
    parser.add_argument("--no-firewall", action="store_true",
                        help="touch no kernel rules (unreachable/latency/loss not applied)")
    args = parser.parse_args(argv)
    use_demo_secrets()
    path = resolve_inventory_path(args.inventory)
    try:
        inventory = load_command_inventory(path)
    except InventoryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s); nothing started", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"{path}: cannot read inventory: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    return serve(inventory, args.scenario, table=args.table, queue=args.queue,
                 firewall=not args.no_firewall)


if __name__ == "__main__":
    sys.exit(main())
