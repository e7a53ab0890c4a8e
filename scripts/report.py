#!/usr/bin/python3
"""moesim report: one self-contained HTML page (plots embedded as base64 PNG) from a run's
output directory.

usage: /usr/bin/python3 scripts/report.py OUT_DIR [--output FILE]   (or: moesim report OUT_DIR)

Reads OUT_DIR/stats.json (required), OUT_DIR/expert_load.csv and OUT_DIR/effective_config.toml
(when present) and writes OUT_DIR/report.html (or FILE): the summary, time by op class, unit
utilisation, bytes per memory tier and between tiers, the expert-load heat map, cache hit
rates (when the run has caches), per-link utilisation (when it has links) and energy by unit
(when stats.json has energy statistics). Sections whose statistics the run does not have are
left out. Exit codes: 0 written, 2 bad OUT_DIR or unreadable results.
"""

import base64
import csv
import html
import io
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

ENERGY_SCALE = {"J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9, "pJ": 1e-12, "fJ": 1e-15}


class BadInput(Exception):
    pass


def fail(msg):
    raise BadInput(msg)


def load(out_dir):
    if not os.path.isdir(out_dir):
        fail("%s: no such directory (expected the output directory of 'moesim run')" % out_dir)
    path = os.path.join(out_dir, "stats.json")
    if not os.path.isfile(path):
        fail("%s: no stats.json (expected the output directory of 'moesim run')" % out_dir)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: not a stats.json of moesim (%s)" % (path, e))
    if not isinstance(doc, dict) or "stats" not in doc or "summary" not in doc:
        fail("%s: not a stats.json of moesim (no 'summary' and 'stats')" % path)
    load_rows = []
    el = os.path.join(out_dir, "expert_load.csv")
    if os.path.isfile(el):
        with open(el, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                load_rows.append((int(row["moe_layer"]), int(row["expert"]), int(row["tokens"])))
    return doc, load_rows


def png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def barh(labels, values, xlabel, title, stacked=None):
    """Horizontal bars; `stacked`: [(name, values)] drawn side by side instead."""
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(labels), 2) + 1.2))
    if stacked:
        left = [0.0] * len(labels)
        for name, vals in stacked:
            ax.barh(labels, vals, left=left, label=name)
            left = [a + b for a, b in zip(left, vals)]
        ax.legend(loc="lower right")
    else:
        ax.barh(labels, values, color="#4878a8")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def stat(values, key, default=None):
    v = values.get(key)
    return v["value"] if isinstance(v, dict) and "value" in v else default


def fmt_num(x):
    if isinstance(x, float):
        return "%.6g" % x
    return str(x)


def section_summary(doc):
    s = doc["summary"]
    units = doc.get("summary_units", {})
    rows = [("config", doc.get("config", "")), ("model", doc.get("model", "")),
            ("moesim", doc.get("moesim_version", "")), ("seed", doc.get("seed", ""))]
    for k, v in s.items():
        u = units.get(k, "") if isinstance(units, dict) else ""
        rows.append((k, "%s %s" % (fmt_num(v), u) if u else fmt_num(v)))
    body = "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(str(k)), html.escape(str(v)))
                   for k, v in rows)
    return "<h2>Summary</h2><table>%s</table>" % body


def section_op_classes(values, clock_hz):
    sums = {}
    for k, v in values.items():
        m = re.match(r"^chip\d+\.compute\.array\.busy_cycles_(\w+)$", k)
        if m:
            sums[m.group(1)] = sums.get(m.group(1), 0) + v["value"]
    if not sums or not clock_hz:
        return ""
    labels = list(sums)
    secs = [sums[c] / clock_hz for c in labels]
    img = barh(labels, secs, "compute busy time (s, summed over chips)",
               "Time by op class (compute units)")
    return fig_section("Time by op class", img, "Cycles the compute arrays spent on each op "
                       "class (chip*.compute.array.busy_cycles_*), at %.4g GHz." % (clock_hz / 1e9))


def section_utilisation(values):
    labels, util = [], []
    for k, v in values.items():
        m = re.match(r"^(chip\d+\.(?:compute|vector|dma|comm))\.utilisation$", k)
        if m:
            labels.append(m.group(1))
            util.append(100.0 * v["value"])
    if not labels:
        return ""
    img = barh(labels, util, "busy time / simulated time (%)", "Unit utilisation")
    return fig_section("Unit utilisation", img, "Time with at least one op in progress.")


def section_memory(values):
    mems, reads, writes = [], [], []
    for k, v in values.items():
        m = re.match(r"^(chip\d+\.\w+)\.read_bytes$", k)
        if m and (m.group(1) + ".write_bytes") in values and ".dma." not in k:
            mems.append(m.group(1))
            reads.append(v["value"] / 1e9)
            writes.append(stat(values, m.group(1) + ".write_bytes", 0) / 1e9)
    out = ""
    if mems:
        img = barh(mems, None, "bytes moved (GB)", "Bytes per memory tier",
                   stacked=[("read", reads), ("written", writes)])
        out += fig_section("Bytes per memory tier", img, "Read and written bytes of every memory "
                           "(SRAM and each tier) of every chip.")
    moves = {}
    for k, v in values.items():
        m = re.match(r"^chip\d+\.tiers\.(\w+)_to_(\w+)_bytes$", k)
        if m:
            key = (m.group(1), m.group(2))
            moves[key] = moves.get(key, 0) + v["value"]
    if moves:
        names = sorted({a for a, _ in moves} | {b for _, b in moves})
        grid = [[moves.get((a, b), 0) / 1e9 for b in names] for a in names]
        fig, ax = plt.subplots(figsize=(1.2 * len(names) + 3, 1.0 * len(names) + 2))
        im = ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, "%.3g" % grid[i][j], ha="center", va="center", fontsize=8)
        fig.colorbar(im, ax=ax, label="GB (summed over chips)")
        ax.set_title("Bytes between tiers")
        out += fig_section("Bytes between tiers", png(fig), "chip*.tiers.X_to_Y_bytes, summed "
                           "over chips.")
    return out


def section_expert_load(rows):
    if not rows:
        return ""
    layers = max(r[0] for r in rows) + 1
    experts = max(r[1] for r in rows) + 1
    grid = [[0] * experts for _ in range(layers)]
    for l, e, t in rows:
        grid[l][e] = t
    fig, ax = plt.subplots(figsize=(min(14, 3 + 0.12 * experts), min(12, 2 + 0.25 * layers)))
    im = ax.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_xlabel("expert")
    ax.set_ylabel("MoE layer")
    ax.set_title("Expert load (routed token copies over the run)")
    fig.colorbar(im, ax=ax, label="tokens")
    total = sum(t for _, _, t in rows)
    mean = total / float(layers * experts) if layers * experts else 0
    peak = max(t for _, _, t in rows)
    note = "From expert_load.csv: %d MoE layers x %d experts, %d routed copies; max/mean %.3g." % (
        layers, experts, total, peak / mean if mean else 0)
    return fig_section("Expert load", png(fig), note)


def section_caches(values):
    labels, rates = [], []
    for k, v in values.items():
        m = re.match(r"^(chip\d+\.tiers\.\w+)\.hit_rate$", k)
        if m:
            labels.append(m.group(1))
            rates.append(100.0 * v["value"])
    if not labels:
        return ""
    img = barh(labels, rates, "hits / accesses (%)", "Expert cache hit rate")
    return fig_section("Cache hit rates", img, "Expert caches over the weights tier.")


def section_links(values):
    labels, util = [], []
    for k, v in values.items():
        m = re.match(r"^([A-Za-z]\w*)\.utilisation$", k)
        if m and not k.startswith("chip") and (m.group(1) + ".busy_time") in values:
            labels.append(m.group(1))
            util.append(100.0 * v["value"])
    if not labels:
        return ""
    img = barh(labels, util, "bytes / (peak x simulated time) (%)", "Link utilisation")
    return fig_section("Link utilisation", img, "Every link direction.")


def section_energy(values):
    # moesim's energy model (docs/energy.md): chipN.energy.X_j is unit or memory X's total
    # when chipN.energy.X_<part>_j exist (its parts); energy.linkA_B_j per link direction.
    totals = {}
    for k, v in values.items():
        m = re.match(r"^chip\d+\.energy\.(\w+)_j$", k)
        if not m or m.group(1) == "total" or not isinstance(v.get("value"), (int, float)):
            continue
        prefix = k[: -len("_j")] + "_"
        if any(o != k and o.startswith(prefix) and o.endswith("_j") for o in values):
            totals[m.group(1)] = totals.get(m.group(1), 0.0) + v["value"]
    if totals:
        links = sum(v["value"] for k, v in values.items()
                    if re.match(r"^energy\.link\d+_\d+_j$", k))
        if any(re.match(r"^energy\.link\d+_\d+_j$", k) for k in values):
            totals["links"] = links
        names = sorted(totals)
        vals = [totals[n] for n in names]
        img = barh(names, vals, "energy (J)", "Energy by unit")
        return fig_section("Energy by unit", img, "Each unit and memory summed over the chips "
                           "(chip*.energy.*_j), links summed over their directions; %.6g J in "
                           "total." % sum(vals))
    # Otherwise (stats from elsewhere): any statistic named with "energy" and a unit of energy.
    per_unit = {}
    for k, v in values.items():
        if "energy" not in k or not isinstance(v, dict):
            continue
        unit = v.get("unit", "")
        scale = ENERGY_SCALE.get(unit)
        if scale is None:
            m = re.search(r"_(J|mJ|uJ|nJ|pJ|fJ)$", k)
            scale = ENERGY_SCALE.get(m.group(1)) if m else None
        if scale is None or not isinstance(v.get("value"), (int, float)):
            continue
        parts = k.split(".")
        owner = ".".join(parts[:-1]) or k
        # A total over everything is shown in the caption, not as one more bar.
        if owner in ("summary", "energy", "system") or parts[-1].startswith("total"):
            if owner in ("summary", "energy", "system"):
                continue
        per_unit[owner] = per_unit.get(owner, 0.0) + v["value"] * scale
    # Drop owners that are sums of others (a prefix of another owner).
    owners = sorted(per_unit)
    leaves = [o for o in owners if not any(p != o and p.startswith(o + ".") for p in owners)]
    if not leaves:
        return ""
    vals = [per_unit[o] for o in leaves]
    img = barh(leaves, vals, "energy (J)", "Energy by unit")
    return fig_section("Energy by unit", img, "Statistics whose name contains 'energy' with a "
                       "unit of energy, summed per unit; %.6g J in total." % sum(vals))


def fig_section(title, img, note):
    return ("<h2>%s</h2><p>%s</p><img alt=\"%s\" src=\"data:image/png;base64,%s\">"
            % (html.escape(title), html.escape(note), html.escape(title), img))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>moesim report: %(title)s</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; } th, td { padding: 2px 10px; border-bottom: 1px solid #ddd;
text-align: left; } h2 { margin-top: 1.6em; border-bottom: 2px solid #4878a8; }
img { max-width: 100%%; display: block; }
</style></head>
<body><h1>moesim report: %(title)s</h1>
<p>From %(src)s.</p>
%(sections)s
<script>
window.addEventListener("load", function () {
  var imgs = document.images, bad = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (!(imgs[i].complete && imgs[i].naturalWidth > 0)) bad++;
  }
  document.body.setAttribute("data-images", imgs.length);
  document.body.setAttribute("data-images-ok", bad === 0 ? "yes" : "no");
});
</script>
</body></html>
"""


def build(out_dir):
    doc, load_rows = load(out_dir)
    values = doc["stats"]
    clock = doc["summary"].get("clock_hz") or 0
    sections = [section_summary(doc), section_op_classes(values, clock),
                section_utilisation(values), section_memory(values),
                section_expert_load(load_rows), section_caches(values), section_links(values),
                section_energy(values)]
    return PAGE % {"title": html.escape(str(doc.get("config", ""))),
                   "src": html.escape(os.path.abspath(out_dir)),
                   "sections": "\n".join(s for s in sections if s)}


def main(argv):
    args, output = [], None
    i = 0
    while i < len(argv):
        if argv[i] == "--output":
            if i + 1 >= len(argv):
                print("moesim: error: report: --output needs a value", file=sys.stderr)
                return 2
            output = argv[i + 1]
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if len(args) != 1:
        print("moesim: error: report: expected one OUT_DIR (see 'moesim report --help')",
              file=sys.stderr)
        return 2
    try:
        page = build(args[0])
    except BadInput as e:
        print("moesim: error: report: %s" % e, file=sys.stderr)
        return 2
    output = output or os.path.join(args[0], "report.html")
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, output)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
