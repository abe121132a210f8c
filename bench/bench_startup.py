"""Start time of the command line: ``netwatch --help`` and ``netwatch check`` on the demo city.

Each case runs ``--runs`` fresh interpreters (``python -m netwatch …``) and prints the
median and best wall time and how many modules the command loaded. With ``--tree DIR``
the same commands run from another checkout (e.g. a ``git worktree`` of an older commit)
in the same run, so the two trees are compared on one machine at one moment.

    python bench/bench_startup.py [--runs 7] [--tree DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from figures import result

ROOT = Path(__file__).resolve().parents[1]
CASES = {"help": ["--help"], "check": ["check", "inventory.yaml"]}
COUNT = ("import sys, runpy; sys.argv = ['netwatch', *sys.argv[1:]]\n"
         "try: runpy.run_module('netwatch', run_name='__main__')\n"
         "except SystemExit: pass\n"
         "print('MODULES', len(sys.modules), file=sys.stderr)")


def _run(tree: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "netwatch", *args], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _modules(tree: Path, args: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", COUNT, *args], cwd=tree, env=env, check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(done.stderr.rsplit("MODULES", 1)[1].split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", type=Path, help="another checkout to compare against")
    args = parser.parse_args()
    trees = {"this": ROOT} | ({"other": args.tree.resolve()} if args.tree else {})
    for case, argv in CASES.items():
        for label, tree in trees.items():
            times = [_run(tree, argv) for _ in range(args.runs)]
            result("startup", f"{case}-{label}", median_s=statistics.median(times),
                   best_s=min(times), modules=_modules(tree, argv), runs=args.runs)


if __name__ == "__main__":
    main()
