"""PNG figures from a sweep directory: metric vs axis, heatmap over two axes, Pareto front.

Axis labels carry units: metrics take theirs from the points' stats.json (summary_units and
each stat's "unit"), swept parameters from their values ("2TB/s" is a bandwidth, shown in a
readable multiple of B/s).
"""

import math
import os
import re
import tomllib

from . import rows as R

# (unit, factor to base units) per dimension, as in sim/config/units.cpp.
UNITS = {
    "B": [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1.0), ("TiB", 2.0 ** 40),
          ("GiB", 2.0 ** 30), ("MiB", 2.0 ** 20), ("KiB", 2.0 ** 10)],
    "B/s": [("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3), ("B/s", 1.0),
            ("TiB/s", 2.0 ** 40), ("GiB/s", 2.0 ** 30), ("MiB/s", 2.0 ** 20), ("KiB/s", 2.0 ** 10)],
    "s": [("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("ps", 1e-12)],
    "Hz": [("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3), ("Hz", 1.0)],
    "J": [("kJ", 1e3), ("J", 1.0), ("mJ", 1e-3), ("uJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)],
    "J/token": [("J/token", 1.0), ("mJ/token", 1e-3), ("uJ/token", 1e-6)],
    "W": [("kW", 1e3), ("W", 1.0), ("mW", 1e-3)],
}
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z/]+)$")


def parse_quantity(text):
    """(value in base units, base unit) of "2TB/s", "520MiB", "14ns", "1.4GHz"; else None."""
    m = QUANTITY.match(text)
    if not m:
        return None
    for base, units in UNITS.items():
        for name, factor in units:
            if name == m.group(2):
                return float(m.group(1)) * factor, base
    return None


def display_unit(values, base):
    """(name, factor) of a readable unit for `values` in `base` units: the largest unit not
    above the largest value; binary units for sizes that are all whole MiB multiples."""
    units = UNITS.get(base)
    if not units:
        return base, 1.0
    vals = [abs(v) for v in values if v]
    if base in ("B", "B/s"):
        binary = bool(vals) and all(v == int(v) and int(v) % 2 ** 20 == 0 for v in vals)
        units = [u for u in units if ("i" in u[0]) == binary or u[1] == 1.0]
    top = max(vals, default=0.0)
    for name, factor in sorted(units, key=lambda u: -u[1]):
        if top >= factor:
            return name, factor
    return min(units, key=lambda u: u[1])


class SweepData:
    """The rows of a sweep directory and what is known about each column's unit."""

    def __init__(self, directory):
        self.dir = directory
        path = os.path.join(directory, "results.jsonl")
        if not os.path.exists(path):
            raise R.SweepError("%s: no results.jsonl (run the sweep first)" % directory)
        self.rows = R.read_rows(path)
        self.ok = [r for r in self.rows if r["status"] == "ok"]
        self.keys, self.metric_stats = {}, {}
        try:
            with open(os.path.join(directory, "sweep.toml"), "rb") as f:
                spec = tomllib.load(f)
            self.keys = {n: a.get("key", "") for n, a in spec.get("axis", {}).items()}
            self.metric_stats = dict(spec.get("metrics", {}))
        except (OSError, tomllib.TOMLDecodeError):
            pass
        self.stats = {}
        if self.ok:
            try:
                with open(os.path.join(directory, self.ok[0]["out"], "stats.json"), encoding="utf-8") as f:
                    self.stats = R.loads(f.read())
            except (OSError, ValueError):
                pass

    def kind(self, column):
        if self.rows and column in self.rows[0]["params"]:
            return "axis"
        if self.rows and column in self.rows[0]["summary"]:
            return "summary"
        if self.rows and column in self.rows[0]["metrics"]:
            return "metric"
        known = sorted(set(self.rows[0]["params"]) | set(self.rows[0]["summary"]) |
                       set(self.rows[0]["metrics"])) if self.rows else []
        raise R.SweepError("no column '%s' in %s (columns: %s)" % (column, self.dir, ", ".join(known)))

    def raw(self, row, column):
        return row[{"axis": "params", "summary": "summary", "metric": "metrics"}[self.kind(column)]].get(column)

    def numeric(self, row, column):
        """(value in base units, base unit) of a cell, or (None, None)."""
        v = self.raw(row, column)
        if v is None or isinstance(v, bool):
            return None, None
        if isinstance(v, str) and not isinstance(v, R.Num):
            q = parse_quantity(v)
            return (q if q else (None, None))
        return float(v), self.unit(column)

    def unit(self, column):
        kind = self.kind(column)
        if kind == "summary":
            return self.stats.get("summary_units", {}).get(column, "")
        if kind == "metric":
            stat = self.stats.get("stats", {}).get(self.metric_stats.get(column, ""), {})
            return stat.get("unit", "")
        for r in self.rows:
            v = r["params"].get(column)
            if isinstance(v, str) and not isinstance(v, R.Num):
                q = parse_quantity(v)
                if q:
                    return q[1]
        return ""

    def label(self, column, values):
        """Axis label with unit, and the factor values are divided by."""
        base = self.unit(column)
        name, factor = display_unit(values, base) if base else ("", 1.0)
        what = column
        if self.kind(column) == "axis" and self.keys.get(column):
            what = "%s (%s)" % (column, self.keys[column])
        elif self.kind(column) == "metric" and self.metric_stats.get(column):
            what = "%s (%s)" % (column, self.metric_stats[column])
        if name and name != "1":
            return "%s [%s]" % (what, name), factor
        return what, factor

    def axis_title(self, column):
        """A column's name with its config key, for legends and categorical axes (whose ticks
        show the values with their units)."""
        if self.kind(column) == "axis" and self.keys.get(column):
            return "%s (%s)" % (column, self.keys[column])
        return column

    def tick_text(self, row, column):
        v = self.raw(row, column)
        return "true" if v is True else "false" if v is False else str(v)


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _numeric_column(data, rows, column):
    vals = [data.numeric(r, column)[0] for r in rows]
    if any(v is None for v in vals):
        raise R.SweepError("column '%s' is not numeric in every ok row" % column)
    return vals


def plot_lines(data, metric, x, lines, out, logx=False, logy=False):
    """`metric` against axis `x`, one line per value of axis `lines` (or a single line)."""
    plt = _figure()
    rows = data.ok
    if not rows:
        raise R.SweepError("%s: no ok points to plot" % data.dir)
    xs, ys = _numeric_column(data, rows, x), _numeric_column(data, rows, metric)
    xlabel, xf = data.label(x, xs)
    ylabel, yf = data.label(metric, ys)
    groups = {}
    for r, xv, yv in zip(rows, xs, ys):
        key = data.tick_text(r, lines) if lines else ""
        groups.setdefault(key, []).append((xv / xf, yv / yf, data.numeric(r, lines)[0] if lines else 0))
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for key, pts in sorted(groups.items(), key=lambda kv: (kv[1][0][2] if kv[1][0][2] is not None else 0, kv[0])):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key if lines else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if lines:
        ax.legend(title=data.axis_title(lines), fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title("%s vs %s" % (metric, x))
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def plot_heatmap(data, metric, x, y, out):
    """`metric` over axes `x` (columns) and `y` (rows); cells without an ok point are blank."""
    plt = _figure()
    import numpy as np
    rows = data.rows
    def order(column):
        seen = {}
        for r in rows:
            seen.setdefault(data.tick_text(r, column), data.numeric(r, column)[0])
        return sorted(seen, key=lambda t: (seen[t] is None, seen[t] if seen[t] is not None else 0, t))
    xt, yt = order(x), order(y)
    ok_vals = _numeric_column(data, data.ok, metric) if data.ok else []
    label, f = data.label(metric, ok_vals)
    grid = np.full((len(yt), len(xt)), np.nan)
    for r in data.ok:
        grid[yt.index(data.tick_text(r, y)), xt.index(data.tick_text(r, x))] = data.numeric(r, metric)[0] / f
    fig, ax = plt.subplots(figsize=(1.2 * len(xt) + 2.5, 0.6 * len(yt) + 2), dpi=120)
    im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xt)), xt)
    ax.set_yticks(range(len(yt)), yt)
    ax.set_xlabel(data.axis_title(x))
    ax.set_ylabel(data.axis_title(y))
    for i in range(len(yt)):
        for j in range(len(xt)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, "%.3g" % grid[i, j], ha="center", va="center", color="w", fontsize=8)
            else:
                ax.text(j, i, "-", ha="center", va="center", color="0.5", fontsize=8)
    fig.colorbar(im, ax=ax, label=label)
    ax.set_title(metric)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def pareto_front(points, max_x=False, max_y=False):
    """The points (x, y, ...) not dominated by another, sorted by x (both minimised unless
    max_x / max_y)."""
    sx, sy = (-1 if max_x else 1), (-1 if max_y else 1)
    best, front = math.inf, []
    for p in sorted(points, key=lambda p: (sx * p[0], sy * p[1])):
        if sy * p[1] < best:
            front.append(p)
            best = sy * p[1]
    return front


def plot_pareto(data, x, y, out, max_x=False, max_y=False, logx=False, logy=False):
    """All ok points of columns `x` and `y`, with their Pareto front."""
    plt = _figure()
    rows = data.ok
    if not rows:
        raise R.SweepError("%s: no ok points to plot" % data.dir)
    xs, ys = _numeric_column(data, rows, x), _numeric_column(data, rows, y)
    xlabel, xf = data.label(x, xs)
    ylabel, yf = data.label(y, ys)
    pts = [(a / xf, b / yf, r["id"]) for a, b, r in zip(xs, ys, rows)]
    front = pareto_front(pts, max_x, max_y)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="0.6", label="points")
    ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="C3", marker="o",
            label="Pareto front")
    for p in front:
        ax.annotate(p[2], (p[0], p[1]), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel + (" (higher is better)" if max_x else ""))
    ax.set_ylabel(ylabel + (" (higher is better)" if max_y else ""))
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title("Pareto front: %s vs %s" % (y, x))
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return front
