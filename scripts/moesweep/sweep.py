"""Sweeps defined in Python (Sweep, Axis) and sweeps read from a SWEEP.toml (TomlSweep).

Both produce the same kind of plan: an effective spec text with its spec_hash, result
columns, and points (id, index, params, overrides, skip reason). run() executes a plan into a
sweep directory with the same files and formats as `moesim sweep`. A SWEEP.toml is never
enumerated here: its points come from `moesim sweep SPEC --list-points`, so both paths run
exactly the same points.
"""

import itertools
import math
import os
import subprocess
import sys
import time

from . import rows as R
from .runner import default_moesim, execute, progress_line


def fnv1a64(text):
    h = 14695981039346656037
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def point_id(index, count):
    """"p" and at least 4 digits, as `moesim sweep` names points."""
    width = max(4, len(str(max(count - 1, 0))))
    return "p%0*d" % (width, index)


def toml_quote(s):
    """`s` as a TOML basic string, as `moesim sweep` writes its effective spec: \\n and \\t
    short, other control characters and DEL as \\u00XX."""
    return R.quote(s, "\n\t", upper_hex=True, escape_del=True)


def value_texts(v):
    """(TOML text for --set, value for result rows) of a Python axis value."""
    if isinstance(v, bool):
        return ("true" if v else "false"), v
    if isinstance(v, int):
        return str(v), R.Num(str(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            raise R.SweepError("axis value %r is not finite" % v)
        t = repr(v)
        return t, R.Num(t)
    if isinstance(v, str):
        return toml_quote(v), v
    raise R.SweepError("axis value %r: expected a number, string or boolean" % (v,))


class Axis:
    """A swept config key: `name` (results column), `key` (config path), `values`.

    Axes with the same `zip` group advance together; others are crossed.
    """

    def __init__(self, name, key, values, zip=None):
        if not name.isidentifier():
            raise R.SweepError("axis name %r must be an identifier" % name)
        values = list(values)
        if not values:
            raise R.SweepError("axis %s: expected at least one value" % name)
        texts = [value_texts(v)[0] for v in values]
        for i, t in enumerate(texts):
            if t in texts[:i]:
                raise R.SweepError("axis %s: the value %s appears twice" % (name, t))
        self.name, self.key, self.values, self.zip = name, key, values, zip or ""

    @classmethod
    def linear(cls, name, key, start, stop, steps, unit="", zip=None):
        """`steps` evenly spaced numbers (integers when both ends are), `unit` appended."""
        return cls(name, key, _spaced(start, stop, steps, False, unit), zip)

    @classmethod
    def log(cls, name, key, start, stop, steps, unit="", zip=None):
        """`steps` geometrically spaced numbers (integers when both ends are)."""
        return cls(name, key, _spaced(start, stop, steps, True, unit), zip)


def _spaced(start, stop, steps, log, unit):
    if steps < 2:
        raise R.SweepError("a range needs at least 2 steps")
    out = []
    for i in range(steps):
        t = i / (steps - 1)
        x = start * (stop / start) ** t if log else start + (stop - start) * t
        x = start if i == 0 else stop if i == steps - 1 else x
        if isinstance(start, int) and isinstance(stop, int):
            x = int(round(x))
        if unit:
            text = repr(x)
            out.append((text[:-2] if text.endswith(".0") else text) + unit)
        else:
            out.append(x)
    return out


class Plan:
    """What run() executes: effective spec, hash, columns, points."""

    def __init__(self, name, base, effective, spec_hash, cols, metric_stats, timeout_s,
                 timeout_text, points):
        self.name, self.base, self.effective, self.hash = name, base, effective, spec_hash
        self.cols, self.metric_stats = cols, metric_stats
        self.timeout_s, self.timeout_text = timeout_s, timeout_text
        self.points = points  # dicts: id, index, params, overrides, skip


class Sweep:
    """A sweep defined in Python.

    base: run config path; axes: [Axis]; set: {"key.path": value} fixed overrides;
    constraints: {name: callable(params) -> bool}, params being {axis name: value}; a point
    for which one is false is recorded as skipped; metrics: {column: "stats.json stat"};
    objective: (column, "min" | "max") used by best(); timeout_s: per point (0 = none).
    """

    def __init__(self, name, base, axes, set=None, constraints=None, metrics=None,
                 objective=None, timeout_s=0.0):
        self.name, self.base, self.axes = name, os.path.abspath(base), list(axes)
        self.set = dict(set or {})
        self.constraints = dict(constraints or {})
        self.metrics = dict(metrics or {})
        self.objective = objective
        self.timeout_s = float(timeout_s)
        names = [a.name for a in self.axes]
        if len(frozenset(names)) != len(names):
            raise R.SweepError("two axes share a name")

    def grid(self):
        """Axis value indices of every point: last axis fastest, zip groups together."""
        dims, groups = [], {}
        for i, a in enumerate(self.axes):
            if a.zip and a.zip in groups:
                g = dims[groups[a.zip]]
                if len(self.axes[g[0]].values) != len(a.values):
                    raise R.SweepError("axis %s: zip group '%s' needs equal lengths" % (a.name, a.zip))
                g.append(i)
                continue
            if a.zip:
                groups[a.zip] = len(dims)
            dims.append([i])
        for combo in itertools.product(*[range(len(self.axes[d[0]].values)) for d in dims]):
            choice = [0] * len(self.axes)
            for d, v in zip(dims, combo):
                for a in d:
                    choice[a] = v
            yield choice

    def effective_text(self):
        lines = ["[sweep]", "base = " + toml_quote(self.base), 'mode = "grid"']
        if self.set:
            lines += ["", "[set]"] + ["%s = %s" % (k, value_texts(v)[0]) for k, v in self.set.items()]
        if self.constraints:
            lines += ["", "# constraints defined in Python: " + ", ".join(self.constraints)]
        if self.metrics:
            lines += ["", "[metrics]"] + ["%s = %s" % (k, toml_quote(v)) for k, v in self.metrics.items()]
        for a in self.axes:
            lines += ["", "[axis.%s]" % a.name, "key = " + toml_quote(a.key),
                      "values = [" + ", ".join(value_texts(v)[0] for v in a.values) + "]"]
            if a.zip:
                lines.append("zip = " + toml_quote(a.zip))
        return "\n".join(lines) + "\n"

    def plan(self, moesim=None, timeout_s=None):
        timeout = self.timeout_s if timeout_s is None else timeout_s
        body = self.effective_text()
        spec_hash = fnv1a64(body)
        timeout_text = "%gs" % timeout
        effective = ("# Effective sweep spec '%s' (defined in Python).\n# spec_hash = %s\n\n%s"
                     '\n[run]\ntimeout = "%s"\n' % (self.name, spec_hash, body, timeout_text))
        cols = R.Columns([a.name for a in self.axes], list(self.metrics))
        fixed = ["%s=%s" % (k, value_texts(v)[0]) for k, v in self.set.items()]
        choices = list(self.grid())
        points = []
        for index, choice in enumerate(choices):
            params, py, overrides = {}, {}, list(fixed)
            for a, c in zip(self.axes, choice):
                text, shown = value_texts(a.values[c])
                params[a.name], py[a.name] = shown, a.values[c]
                overrides.append("%s=%s" % (a.key, text))
            skip = ""
            for cname, fn in self.constraints.items():
                if not fn(py):
                    skip = "constraint '%s' does not hold" % cname
                    break
            points.append({"id": point_id(index, len(choices)), "index": index, "params": params,
                           "overrides": overrides, "skip": skip})
        return Plan(self.name, self.base, effective, spec_hash, cols,
                    list(self.metrics.values()), timeout, timeout_text, points)

    def best(self, rows):
        """The ok row that is best by `objective`, or None."""
        if not self.objective:
            return None
        return best_row(rows, *self.objective)


def best_row(rows, column, sense="min"):
    ok = [r for r in rows if r["status"] == "ok" and r["summary"].get(column, r["metrics"].get(column)) is not None]
    if not ok:
        return None
    key = lambda r: float(r["summary"].get(column, r["metrics"].get(column)))  # noqa: E731
    return min(ok, key=key) if sense == "min" else max(ok, key=key)


class TomlSweep:
    """A SWEEP.toml, enumerated by `moesim sweep SPEC --list-points`."""

    def __init__(self, path, moesim=None):
        self.path = path
        self.moesim = moesim or default_moesim()
        self.objective = None

    def plan(self, moesim=None, timeout_s=None):
        argv = [moesim or self.moesim, "sweep", self.path, "--list-points"]
        if timeout_s is not None:
            argv += ["--timeout", "%gs" % timeout_s]
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode
            if msg.startswith("moesim: error: "):
                msg = msg[len("moesim: error: "):]
            raise R.SweepError(msg)
        lines = p.stdout.splitlines()
        head = R.loads(lines[0])
        timeout_text = "0s"
        for line in head["effective"].splitlines():
            if line.startswith("timeout = "):
                timeout_text = line[len('timeout = "'):-1]
        cols = R.Columns(head["axes"], head["metrics"], head["summary"])
        points = []
        for line in lines[1:]:
            pt = R.loads(line)
            points.append({"id": pt["id"], "index": int(pt["index"]), "params": pt["params"],
                           "overrides": pt["overrides"], "skip": pt["error"]})
        return Plan(head["sweep"], head["base"], head["effective"], head["spec_hash"], cols,
                    head["metric_stats"], float(head["timeout_s"]), timeout_text, points)

    def best(self, rows):
        return None


def recorded_hash(path):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("# spec_hash = "):
                    return line[len("# spec_hash = "):].strip()
    except OSError:
        pass
    return ""


def run(sweep, out=None, jobs=1, scheduler=None, resume=False, timeout_s=None, moesim=None,
        quiet=False):
    """Runs every point of `sweep` (Sweep or TomlSweep) not yet recorded in `out`.

    Returns the rows of the sweep directory. Same directory layout, files and formats as
    `moesim sweep`: sweep.toml, results.jsonl, results.csv, points/<id>/.
    """
    moesim = os.path.abspath(moesim or default_moesim())
    plan = sweep.plan(moesim=moesim, timeout_s=timeout_s)
    out = out or os.path.join("out", "sweeps", plan.name)
    os.makedirs(os.path.join(out, "points"), exist_ok=True)
    lock = R.DirLock(out)
    try:
        copy = os.path.join(out, "sweep.toml")
        old = recorded_hash(copy)
        jsonl = os.path.join(out, "results.jsonl")
        has_rows = os.path.exists(jsonl) and os.path.getsize(jsonl) > 0
        if (resume or has_rows) and old and old != plan.hash:
            raise R.SweepError(
                "%s: the results in %s come from another sweep spec (spec_hash %s; this spec "
                "gives %s); resume with the spec that made them, or choose another --out"
                % (copy, out, old, plan.hash))
        notes = []
        log = R.ResultsLog(out, plan.cols, resume, notes)
        R.write_atomic(copy, plan.effective)
        for n in notes:
            if not quiet:
                sys.stderr.write("moesweep: %s\n" % n)
        total = len(plan.points)
        todo = [p for p in plan.points if p["id"] not in log.done]
        for p in todo:
            if p["skip"]:
                row = R.make_row(p["id"], p["index"], "skipped", p["params"], plan.cols,
                                 error=p["skip"])
                log.append(row)
        tasks = []
        for p in todo:
            if p["skip"]:
                continue
            tasks.append({"id": p["id"], "index": p["index"], "params": p["params"],
                          "hash": plan.hash, "moesim": moesim, "base": plan.base,
                          "overrides": p["overrides"],
                          "dir": os.path.abspath(os.path.join(out, "points", p["id"])),
                          "timeout_s": plan.timeout_s, "timeout_text": plan.timeout_text,
                          "summary": plan.cols.summary, "metrics": plan.cols.metrics,
                          "metric_stats": plan.metric_stats})
        start = time.monotonic()

        def done(task, res):
            row = R.make_row(task["id"], task["index"], res["status"], task["params"], plan.cols,
                             res["summary"], res["metrics"], res["wall_s"], res["error"],
                             "points/" + task["id"])
            log.append(row)
            progress_line(len(log.rows), total, row, quiet)

        execute(tasks, jobs=jobs, scheduler=scheduler, on_done=done)
        if not quiet:
            counts = {}
            for r in log.rows:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
            text = ", ".join("%d %s" % (counts[s], s)
                             for s in ("ok", "failed", "timeout", "crashed", "skipped") if counts.get(s))
            sys.stderr.write("sweep: %d points: %s; %d run now in %.1fs\n"
                             % (total, text, len(tasks), time.monotonic() - start))
        rows = list(log.rows)
        log.close()
        return rows
    finally:
        lock.release()
