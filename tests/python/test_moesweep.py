"""Tests of the moesweep package (scripts/moesweep): same points and same result files as
`moesim sweep`, locally and on a Dask LocalCluster; resume; failing points; Slurm slices and
collect; plots with units. Run from ctest (label python) with /usr/bin/python3."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))
MOESIM = os.environ.get("MOESIM_BIN", os.path.join(REPO, "build", "moesim"))
os.environ["MOESIM_BIN"] = MOESIM
os.environ["PYTHONPATH"] = os.path.join(REPO, "scripts")

import moesweep  # noqa: E402
from moesweep import plot as P  # noqa: E402
from moesweep import rows as R  # noqa: E402
from moesweep.sweep import point_id  # noqa: E402

BASE = os.path.join(REPO, "configs", "mixtral_decode.toml")
SPEC = """[sweep]
base = "%s"
[set]
workload.max_steps = 1
[constraints]
ring_fits = "mapping.weight_buffer * mapping.weight_buffers <= chip.sram.capacity"
[metrics]
hbm_util = "chip0.hbm.bandwidth_utilisation"
[axis.hbm_bw]
key = "chip.memory.hbm.bandwidth"
values = ["1TB/s", "2TB/s"]
[axis.sram]
key = "chip.sram.capacity"
values = ["256MiB", "520MiB", "1GiB"]
""" % BASE


def moesim(*args):
    return subprocess.run([MOESIM, *args], capture_output=True, text=True)


def moesweep_cli(*args):
    return subprocess.run([sys.executable, "-m", "moesweep", *args], capture_output=True,
                          text=True)


def rows_without_wall(directory, name="results.jsonl"):
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        return sorted(re.sub(r'"wall_s":[0-9.]+,', "", line) for line in f)


def csv_without_wall(directory):
    with open(os.path.join(directory, "results.csv"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    return lines[0], sorted(re.sub(r",[0-9]+\.[0-9]{3},([^,]*),(points/p[0-9]+|)$", r",\1,\2", l)
                            for l in lines[1:])


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="moesweep_test_")
        self.spec = os.path.join(self.tmp, "s.toml")
        with open(self.spec, "w") as f:
            f.write(SPEC)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def reference(self):
        """The spec run by `moesim sweep` (the C++ path)."""
        out = os.path.join(self.tmp, "cpp")
        r = moesim("sweep", self.spec, "--out", out, "-j", "2", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        return out


class LocalAndDask(Tmp):
    def test_same_rows_as_moesim_sweep_locally_and_on_dask(self):
        ref = self.reference()
        local = os.path.join(self.tmp, "local")
        moesweep.run(moesweep.TomlSweep(self.spec), out=local, jobs=2, quiet=True)

        from distributed import LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None, processes=True) as cluster:
            self.assertTrue(cluster.scheduler_address.startswith("tcp://127.0.0.1:"))
            dask_out = os.path.join(self.tmp, "dask")
            r = moesweep_cli("run", self.spec, "--out", dask_out, "--scheduler",
                             cluster.scheduler_address, "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)

        want = rows_without_wall(ref)
        self.assertEqual(len(want), 6)
        self.assertEqual(sum('"status":"ok"' in r for r in want), 4)
        self.assertEqual(sum('"status":"skipped"' in r for r in want), 2)
        for d in (local, dask_out):
            self.assertEqual(rows_without_wall(d), want)
            self.assertEqual(csv_without_wall(d), csv_without_wall(ref))
            with open(os.path.join(d, "sweep.toml")) as a, open(os.path.join(ref, "sweep.toml")) as b:
                self.assertEqual(a.read(), b.read())
            self.assertTrue(os.path.exists(os.path.join(d, "points", "p0001", "stats.json")))


class Enumeration(Tmp):
    def test_python_sweep_enumerates_like_moesim(self):
        """A Sweep defined in Python and the same sweep as a SWEEP.toml give identical points."""
        spec = os.path.join(self.tmp, "e.toml")
        with open(spec, "w") as f:
            f.write('[sweep]\nbase = "%s"\n[set]\nworkload.max_steps = 1\n'
                    '[axis.bufs]\nkey = "mapping.weight_buffers"\nvalues = [2, 3]\nzip = "z"\n'
                    '[axis.hbm_bw]\nkey = "chip.memory.hbm.bandwidth"\nvalues = ["1TB/s", "2.5TB/s", "4TB/s"]\n'
                    '[axis.eff]\nkey = "chip.memory.hbm.efficiency"\nvalues = [0.5, 1.0]\nzip = "z"\n'
                    % BASE)
        toml_points = moesweep.TomlSweep(spec).plan().points
        py = moesweep.Sweep("e", BASE, axes=[
            moesweep.Axis("bufs", "mapping.weight_buffers", [2, 3], zip="z"),
            moesweep.Axis.linear("hbm_bw", "chip.memory.hbm.bandwidth", 1.0, 4.0, 3, unit="TB/s"),
            moesweep.Axis("eff", "chip.memory.hbm.efficiency", [0.5, 1.0], zip="z")],
            set={"workload.max_steps": 1})
        py_points = py.plan().points
        self.assertEqual(len(py_points), 6)
        self.assertEqual([R.json_value(p) for p in py_points], [R.json_value(p) for p in toml_points])
        self.assertEqual(py_points[1]["overrides"],
                         ["workload.max_steps=1", "mapping.weight_buffers=2",
                          'chip.memory.hbm.bandwidth="2.5TB/s"', "chip.memory.hbm.efficiency=0.5"])
        # The CLI lists the same points.
        r = moesweep_cli("points", spec)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [R.json_value(p) for p in toml_points])

    def test_point_ids(self):
        self.assertEqual(point_id(7, 20), "p0007")
        self.assertEqual(point_id(7, 10001), "p00007")


class PythonSweeps(Tmp):
    def test_constraints_objective_failures_and_resume(self):
        trace = os.path.join(REPO, "workloads", "traces", "mixtral_decode_b16.csv")
        sweep = moesweep.Sweep(
            "py", BASE,
            axes=[moesweep.Axis("trace", "workload.path", [trace, os.path.join(self.tmp, "no.csv")]),
                  moesweep.Axis("hbm_bw", "chip.memory.hbm.bandwidth", ["1TB/s", "2TB/s", "4TB/s"])],
            set={"workload.max_steps": 1},
            constraints={"not_4": lambda p: p["hbm_bw"] != "4TB/s"},
            metrics={"hbm_util": "chip0.hbm.bandwidth_utilisation"},
            objective=("time_s", "min"))
        out = os.path.join(self.tmp, "py")
        rows = moesweep.run(sweep, out=out, jobs=2, quiet=True)
        by_id = {r["id"]: r for r in rows}
        self.assertEqual([by_id["p%04d" % i]["status"] for i in range(6)],
                         ["ok", "ok", "skipped", "failed", "failed", "skipped"])
        self.assertEqual(by_id["p0002"]["error"], "constraint 'not_4' does not hold")
        self.assertTrue(by_id["p0003"]["error"].startswith(
            "moesim: error: --set workload.path: cannot open trace"), by_id["p0003"]["error"])
        self.assertEqual(by_id["p0003"]["out"], "points/p0003")
        self.assertEqual(sweep.best(rows)["id"], "p0001")
        self.assertIsNotNone(by_id["p0001"]["metrics"]["hbm_util"])

        # Tear the last row and lose another: resume re-runs exactly those two points.
        jsonl = os.path.join(out, "results.jsonl")
        with open(jsonl) as f:
            lines = f.readlines()
        with open(jsonl, "w") as f:
            f.writelines(lines[:4])
            f.write(lines[4][:25])
        rows = moesweep.run(sweep, out=out, jobs=2, resume=True, quiet=True)
        self.assertEqual(sorted(r["id"] for r in rows), ["p%04d" % i for i in range(6)])
        with open(jsonl) as f:
            self.assertEqual(len(f.readlines()), 6)
        with self.assertRaises(R.SweepError) as e:
            moesweep.run(sweep, out=out, quiet=True)
        self.assertEqual(str(e.exception), "%s: holds the results of an earlier sweep (add "
                         "--resume to continue it, or choose another --out)" % out)

    def test_timeout_is_recorded(self):
        out = os.path.join(self.tmp, "t")
        sweep = moesweep.Sweep("t", BASE, axes=[moesweep.Axis("bufs", "mapping.weight_buffers", [2])],
                               timeout_s=0.001)
        rows = moesweep.run(sweep, out=out, quiet=True)
        self.assertEqual(rows[0]["status"], "timeout")
        self.assertEqual(rows[0]["error"], "timed out after 0.001s (killed)")

    def test_resume_refuses_another_spec(self):
        ref = self.reference()
        other = os.path.join(self.tmp, "o.toml")
        with open(other, "w") as f:
            f.write(SPEC.replace('"2TB/s"', '"3TB/s"'))
        with self.assertRaises(R.SweepError) as e:
            moesweep.run(moesweep.TomlSweep(other), out=ref, resume=True, quiet=True)
        self.assertIn("come from another sweep spec", str(e.exception))


class Cli(Tmp):
    def test_errors(self):
        bad = os.path.join(self.tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write('[sweep]\nbase = "%s"\nmdoe = "grid"\n' % BASE)
        r = moesweep_cli("run", bad)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "moesweep: error: %s:3:1: sweep.mdoe: unknown key for 'sweep' "
                         "(did you mean 'mode'?)\n" % bad)
        r = moesweep_cli("run", self.spec, "--timeout", "5")
        self.assertEqual(r.stderr, "moesweep: error: --timeout expects a time such as 30s, got '5'\n")
        empty = os.path.join(self.tmp, "empty.py")
        open(empty, "w").close()
        r = moesweep_cli("run", empty)
        self.assertEqual(r.stderr, "moesweep: error: %s: defines no `sweep = moesweep.Sweep(...)`\n"
                         % empty)
        r = moesweep_cli("frobnicate")
        self.assertEqual(r.stderr, "moesweep: error: unknown command 'frobnicate' (see 'python3 -m "
                         "moesweep --help')\n")
        r = moesweep_cli("plot", self.tmp, "--x", "a", "--metric", "b", "--out", "x.png")
        self.assertEqual(r.stderr, "moesweep: error: %s: no results.jsonl (run the sweep first)\n"
                         % self.tmp)


class Messages(Tmp):
    def error(self, fn):
        with self.assertRaises(R.SweepError) as e:
            fn()
        return str(e.exception)

    def test_api_errors(self):
        A, S = moesweep.Axis, moesweep.Sweep
        self.assertEqual(self.error(lambda: A("1x", "k", [1])), "axis name '1x' must be an identifier")
        self.assertEqual(self.error(lambda: A("x", "k", [])), "axis x: expected at least one value")
        self.assertEqual(self.error(lambda: A("x", "k", [1, 1])), "axis x: the value 1 appears twice")
        self.assertEqual(self.error(lambda: A("x", "k", [float("nan")])), "axis value nan is not finite")
        self.assertEqual(self.error(lambda: A("x", "k", [[1]])),
                         "axis value [1]: expected a number, string or boolean")
        self.assertEqual(self.error(lambda: A.linear("x", "k", 1, 2, 1)), "a range needs at least 2 steps")
        self.assertEqual(self.error(lambda: S("s", BASE, [A("x", "k", [1]), A("x", "j", [2])])),
                         "two axes share a name")
        s = S("s", BASE, [A("x", "k", [1, 2], zip="g"), A("y", "j", [1], zip="g")])
        self.assertEqual(self.error(s.plan), "axis y: zip group 'g' needs equal lengths")

    def test_cli_errors(self):
        ref = self.reference()
        cases = [
            (["run", self.spec, "-j", "0"], "-j expects at least 1"),
            (["run", os.path.join(self.tmp, "none.py")], "%s: no such file" % os.path.join(self.tmp, "none.py")),
            (["slurm", self.spec, "--out", self.tmp, "--tasks", "0"], "--tasks expects at least 1"),
            (["slurm", "x.py", "--out", self.tmp, "--tasks", "2"],
             "slurm needs a SWEEP.toml (the array tasks run `moesim sweep`)"),
            (["collect", self.tmp], "%s: no sweep.toml (not a sweep directory)" % self.tmp),
            (["plot", ref, "--pareto", "--x", "sram", "--out", "p.png"], "--pareto needs --x and --y"),
            (["plot", ref, "--x", "sram", "--out", "p.png"], "plot needs --metric (or --pareto)"),
            (["plot", ref, "--heatmap", "--metric", "time_s", "--x", "sram", "--out", "p.png"],
             "--heatmap needs --x and --y"),
            (["plot", ref, "--metric", "tme_s", "--x", "sram", "--out", "p.png"],
             "no column 'tme_s' in %s (columns: assignments, average_power_w, bottleneck, "
             "bottleneck_kind, bottleneck_utilisation, clock_hz, cycles, energy_j, "
             "energy_per_token_j, hbm_bw, hbm_util, sram, steps, time_s, tokens, tokens_per_s)"
             % ref),
            (["plot", ref, "--metric", "bottleneck", "--x", "sram", "--out", "p.png"],
             "column 'bottleneck' is not numeric in every ok row"),
        ]
        for args, msg in cases:
            r = moesweep_cli(*args)
            self.assertEqual((r.returncode, r.stderr), (2, "moesweep: error: %s\n" % msg), args)
        failed = os.path.join(self.tmp, "failed")
        moesweep.run(moesweep.Sweep("f", BASE, [moesweep.Axis("p", "workload.path", ["/no.csv"])]),
                     out=failed, quiet=True)
        r = moesweep_cli("plot", failed, "--metric", "time_s", "--x", "p", "--out", "p.png")
        self.assertEqual(r.stderr, "moesweep: error: %s: no ok points to plot\n" % failed)


class Slurm(Tmp):
    def test_array_slices_and_collect_match_a_plain_run(self):
        ref = self.reference()
        out = os.path.join(self.tmp, "slurm_out")
        script = os.path.join(self.tmp, "job.sh")
        r = moesweep_cli("slurm", self.spec, "--out", out, "--tasks", "3", "--time", "00:10:00",
                         "--partition", "cpu", "--script", script)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(script) as f:
            text = f.read()
        self.assertIn("#SBATCH --array=0-2\n", text)
        self.assertIn("#SBATCH --time=00:10:00\n", text)
        self.assertIn("#SBATCH --partition=cpu\n", text)
        self.assertIn('--slice "${SLURM_ARRAY_TASK_ID}/3" -j 1 --resume --quiet\n', text)
        # Run tasks 0 and 2 as Slurm would; collect reports the missing slice.
        for k in (0, 2):
            p = subprocess.run(["bash", script], env=dict(os.environ, SLURM_ARRAY_TASK_ID=str(k)),
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
        r = moesweep_cli("collect", out)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "moesweep: 2 points have no row yet: p0001, p0004 (re-submit "
                         "the array; tasks resume)\n")
        p = subprocess.run(["bash", script], env=dict(os.environ, SLURM_ARRAY_TASK_ID="1"),
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = moesweep_cli("collect", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(rows_without_wall(out), rows_without_wall(ref))
        self.assertEqual(csv_without_wall(out), csv_without_wall(ref))
        with open(os.path.join(out, "results.jsonl")) as f:
            ids = [R.loads(l)["id"] for l in f]
        self.assertEqual(ids, ["p%04d" % i for i in range(6)])


class Plots(Tmp):
    def test_figures_and_units(self):
        ref = self.reference()
        png = os.path.join(self.tmp, "f.png")
        r = moesweep_cli("plot", ref, "--metric", "tokens_per_s", "--x", "hbm_bw", "--lines",
                         "sram", "--out", png)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, png + "\n")
        data = P.SweepData(ref)
        P.plot_heatmap(data, "time_s", "hbm_bw", "sram", os.path.join(self.tmp, "h.png"))
        front = P.plot_pareto(data, "sram", "time_s", os.path.join(self.tmp, "p.png"))
        self.assertEqual([f[2] for f in front], ["p0004"])  # more SRAM buys no time today
        P.plot_lines(data, "time_s", "hbm_bw", None, os.path.join(self.tmp, "l.png"), logx=True,
                     logy=True)
        for name in ("f.png", "h.png", "p.png", "l.png"):
            with open(os.path.join(self.tmp, name), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        data = P.SweepData(ref)
        xs = [data.numeric(r, "hbm_bw")[0] for r in data.ok]
        self.assertEqual(data.label("hbm_bw", xs), ("hbm_bw (chip.memory.hbm.bandwidth) [TB/s]", 1e12))
        ts = [data.numeric(r, "time_s")[0] for r in data.ok]
        self.assertEqual(data.label("time_s", ts), ("time_s [ms]", 1e-3))
        ss = [data.numeric(r, "sram")[0] for r in data.ok]
        self.assertEqual(data.label("sram", ss), ("sram (chip.sram.capacity) [GiB]", 2.0 ** 30))
        self.assertEqual(data.label("hbm_util", [0.5]),
                         ("hbm_util (chip0.hbm.bandwidth_utilisation)", 1.0))
        self.assertEqual(data.label("tokens_per_s", [1.0]), ("tokens_per_s [tokens/s]", 1.0))
        # Energy is a summary column with its unit (J) from summary_units.
        es = [data.numeric(r, "energy_j")[0] for r in data.ok]
        self.assertTrue(es and all(e > 0 for e in es))
        self.assertEqual(data.unit("energy_j"), "J")
        self.assertEqual(data.label("energy_j", [0.5]), ("energy_j [mJ]", 1e-3))
        self.assertEqual(data.label("average_power_w", [76.0]), ("average_power_w [W]", 1.0))
        P.plot_lines(data, "energy_j", "hbm_bw", "sram", os.path.join(self.tmp, "e.png"))
        with open(os.path.join(self.tmp, "e.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_pareto_front(self):
        pts = [(1, 5, "a"), (2, 3, "b"), (3, 4, "c"), (4, 1, "d"), (2, 6, "e")]
        self.assertEqual([p[2] for p in P.pareto_front(pts)], ["a", "b", "d"])
        self.assertEqual([p[2] for p in P.pareto_front(pts, max_x=True)], ["d"])
        self.assertEqual(P.parse_quantity("520MiB"), (520 * 2.0 ** 20, "B"))
        self.assertEqual(P.parse_quantity("1.6TB/s"), (1.6e12, "B/s"))
        self.assertIsNone(P.parse_quantity("fast"))


if __name__ == "__main__":
    unittest.main()
