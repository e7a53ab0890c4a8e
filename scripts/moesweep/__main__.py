"""python3 -m moesweep: run, list, slurm, collect and plot design-space sweeps of moesim."""

import argparse
import os
import runpy
import sys

from . import rows as R
from . import plot as P
from . import slurm as S
from .runner import default_moesim
from .sweep import Sweep, TomlSweep, run

HELP = """python3 -m moesweep COMMAND ... (PYTHONPATH=scripts; see docs/sweeps.md)

commands:
  run SPEC      run a sweep: SPEC is a SWEEP.toml (points from `moesim sweep --list-points`)
                or a Python file defining `sweep = moesweep.Sweep(...)`; locally (-j N) or on
                a Dask cluster (--scheduler tcp://HOST:PORT); same files as `moesim sweep`
  points SPEC   print the points of SPEC as JSON lines (id, index, params, overrides, skip)
  slurm SPEC    write a Slurm job-array script running SPEC in --tasks slices
  collect DIR   merge the slices of a Slurm sweep into DIR/results.jsonl and results.csv
  plot DIR      PNG figure: --metric M --x AXIS [--lines AXIS2]; --heatmap --metric M --x A
                --y B; --pareto --x COL --y COL [--max-x] [--max-y]; --logx, --logy

exit codes: 0 success, 1 collect found points without a row, 2 bad input
"""


def load_sweep(spec, moesim):
    if spec.endswith(".py"):
        if not os.path.exists(spec):
            raise R.SweepError("%s: no such file" % spec)
        ns = runpy.run_path(spec)
        sweep = ns.get("sweep")
        if not isinstance(sweep, Sweep):
            raise R.SweepError("%s: defines no `sweep = moesweep.Sweep(...)`" % spec)
        return sweep
    return TomlSweep(spec, moesim)


def parse_time(text):
    q = P.parse_quantity(text)
    if not q or q[1] != "s":
        raise R.SweepError("--timeout expects a time such as 30s, got '%s'" % text)
    return q[0]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(HELP)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    p = argparse.ArgumentParser(prog="moesweep " + cmd)
    p.add_argument("--moesim", default=default_moesim(), help="the moesim binary")
    if cmd in ("run", "points", "slurm"):
        p.add_argument("spec")
    if cmd == "run":
        p.add_argument("--out")
        p.add_argument("-j", "--jobs", type=int, default=1)
        p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
        p.add_argument("--resume", action="store_true")
        p.add_argument("--timeout")
        p.add_argument("--quiet", action="store_true")
    elif cmd == "slurm":
        p.add_argument("--out", required=True)
        p.add_argument("--tasks", type=int, required=True)
        p.add_argument("--cpus-per-task", type=int, default=1)
        p.add_argument("--time")
        p.add_argument("--partition")
        p.add_argument("--account")
        p.add_argument("--script", help="write here instead of stdout")
    elif cmd in ("collect", "plot"):
        p.add_argument("dir")
    if cmd == "plot":
        p.add_argument("--metric")
        p.add_argument("--x", required=True)
        p.add_argument("--y")
        p.add_argument("--lines")
        p.add_argument("--heatmap", action="store_true")
        p.add_argument("--pareto", action="store_true")
        p.add_argument("--max-x", action="store_true")
        p.add_argument("--max-y", action="store_true")
        p.add_argument("--logx", action="store_true", help="log scale on x (lines, pareto)")
        p.add_argument("--logy", action="store_true", help="log scale on y (lines, pareto)")
        p.add_argument("--out", required=True)
    if cmd not in ("run", "points", "slurm", "collect", "plot"):
        raise R.SweepError("unknown command '%s' (see 'python3 -m moesweep --help')" % cmd)
    a = p.parse_args(rest)

    if cmd == "run":
        if a.jobs < 1:
            raise R.SweepError("-j expects at least 1")
        sweep = load_sweep(a.spec, a.moesim)
        timeout = parse_time(a.timeout) if a.timeout else None
        rows = run(sweep, out=a.out, jobs=a.jobs, scheduler=a.scheduler, resume=a.resume,
                   timeout_s=timeout, moesim=a.moesim, quiet=a.quiet)
        best = sweep.best(rows)
        if best is not None:
            col = sweep.objective[0]
            print("best by %s (%s): %s %s=%s %s" % (col, sweep.objective[1], best["id"], col,
                  best["summary"].get(col, best["metrics"].get(col)),
                  " ".join("%s=%s" % kv for kv in best["params"].items())))
        return 0
    if cmd == "points":
        plan = load_sweep(a.spec, a.moesim).plan(moesim=a.moesim)
        for pt in plan.points:
            sys.stdout.write(R.json_value(pt) + "\n")
        return 0
    if cmd == "slurm":
        if a.tasks < 1:
            raise R.SweepError("--tasks expects at least 1")
        if a.spec.endswith(".py"):
            raise R.SweepError("slurm needs a SWEEP.toml (the array tasks run `moesim sweep`)")
        TomlSweep(a.spec, a.moesim).plan()  # a bad spec fails here, not on the cluster
        text = S.job_script(a.spec, a.out, a.tasks, a.moesim, a.cpus_per_task, a.time,
                            a.partition, a.account)
        if a.script:
            R.write_atomic(a.script, text)
            os.chmod(a.script, 0o755)
            os.makedirs(os.path.join(a.out, "slurm"), exist_ok=True)
            print("sbatch %s" % a.script)
        else:
            sys.stdout.write(text)
        return 0
    if cmd == "collect":
        spec = os.path.join(a.dir, "sweep.toml")
        if not os.path.exists(spec):
            raise R.SweepError("%s: no sweep.toml (not a sweep directory)" % a.dir)
        missing = S.collect(a.dir, TomlSweep(spec, a.moesim).plan())
        if missing:
            sys.stderr.write("moesweep: %d points have no row yet: %s (re-submit the array; "
                             "tasks resume)\n" % (len(missing), ", ".join(missing[:20])))
            return 1
        print(os.path.join(a.dir, "results.csv"))
        return 0
    data = P.SweepData(a.dir)
    if a.pareto:
        if not a.y:
            raise R.SweepError("--pareto needs --x and --y")
        front = P.plot_pareto(data, a.x, a.y, a.out, a.max_x, a.max_y, a.logx, a.logy)
        print("%s (Pareto front: %s)" % (a.out, ", ".join(f[2] for f in front)))
        return 0
    if not a.metric:
        raise R.SweepError("plot needs --metric (or --pareto)")
    if a.heatmap:
        if not a.y:
            raise R.SweepError("--heatmap needs --x and --y")
        P.plot_heatmap(data, a.metric, a.x, a.y, a.out)
    else:
        P.plot_lines(data, a.metric, a.x, a.lines, a.out, a.logx, a.logy)
    print(a.out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except R.SweepError as e:
        sys.stderr.write("moesweep: error: %s\n" % e)
        sys.exit(2)
