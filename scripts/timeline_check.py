#!/usr/bin/python3
"""Checks a `moesim run --timeline` file against the run's stats.json.

usage: /usr/bin/python3 scripts/timeline_check.py TIMELINE.json STATS.json [--partial]

Checks that the file is JSON in the Trace Event format (traceEvents: every event has ph,
pid, name; slices have tid, ts, dur >= 0; counters have numeric args), that every slice lies
inside the run (0 <= ts, ts + dur <= simulated time), that slices on one track never
overlap, and -- unless --partial (a window of the run's steps) -- that the busy time summed
per track equals the busy_time statistic of its unit, memory or link (for a unit with
several channels: its own busy track, and the union of its channel tracks). Prints one line
per problem and exits 1 if there is any, else prints a summary and exits 0.
"""

import json
import re
import sys

# Times are written in microseconds with 6 decimals (whole picoseconds).
EPS_US = 2e-6


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    partial = "--partial" in argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        trace = json.load(f)
    with open(args[1], encoding="utf-8") as f:
        stats = json.load(f)
    problems = []
    end_us = stats["summary"]["time_s"] * 1e6
    events = trace.get("traceEvents")
    if not isinstance(events, list):
        print("no traceEvents array", file=sys.stderr)
        return 1
    processes = {}
    threads = {}
    slices = {}
    counters = 0
    for i, e in enumerate(events):
        for key in ("ph", "pid", "name"):
            if key not in e:
                problems.append("event %d has no %s" % (i, key))
        ph = e.get("ph")
        if ph == "M":
            if e["name"] == "process_name":
                processes[e["pid"]] = e["args"]["name"]
            elif e["name"] == "thread_name":
                threads[(e["pid"], e["tid"])] = e["args"]["name"]
        elif ph == "X":
            ts, dur = e.get("ts"), e.get("dur")
            if not isinstance(ts, (int, float)) or not isinstance(dur, (int, float)) or dur < 0:
                problems.append("slice %d: bad ts/dur" % i)
                continue
            if ts < -EPS_US or ts + dur > end_us + EPS_US:
                problems.append("slice %d (%s) [%f, %f] outside the run [0, %f] us"
                                % (i, e["name"], ts, ts + dur, end_us))
            slices.setdefault((e["pid"], e["tid"]), []).append((ts, ts + dur, e["name"]))
        elif ph == "C":
            counters += 1
            if not e.get("args") or not all(isinstance(v, (int, float))
                                            for v in e["args"].values()):
                problems.append("counter %d: args must be numbers" % i)
            if not 0 <= e.get("ts", -1) <= end_us + EPS_US:
                problems.append("counter %d outside the run" % i)
        else:
            problems.append("event %d: unexpected ph %r" % (i, ph))
    for track, ss in slices.items():
        if track not in threads:
            problems.append("track %s has slices but no thread_name" % (track,))
        ss.sort()
        for a, b in zip(ss, ss[1:]):
            if b[0] < a[1] - EPS_US:
                problems.append("%s/%s: %s [%f, %f] overlaps %s [%f, %f]" % (
                    processes.get(track[0]), threads.get(track), a[2], a[0], a[1],
                    b[2], b[0], b[1]))
    checked = 0
    if not partial:
        values = stats["stats"]
        busy = {}
        unions = {}
        for (pid, tid), name in threads.items():
            ss = slices.get((pid, tid), [])
            proc = processes.get(pid, "")
            lane = re.match(r"^(.*)\.ch\d+$", name)
            if lane:
                unions.setdefault((proc, lane.group(1)), []).extend(ss)
                continue
            if name == "steps":
                continue
            key = (name if proc == "system" else proc + "." + name) + ".busy_time"
            busy[key] = sum(b - a for a, b, _ in ss)
        for key, us in sorted(busy.items()):
            if key not in values:
                problems.append("track %s has no stat %s" % (key[:-10], key))
                continue
            want = values[key]["value"] * 1e6
            if abs(us - want) > max(1e-3, 1e-9 * want):
                problems.append("%s: slices sum to %.6f us, the stat says %.6f us" % (key, us, want))
            checked += 1
        for (proc, unit), ss in sorted(unions.items()):
            ss.sort()
            total, cur_a, cur_b = 0.0, None, None
            for a, b, _ in ss:
                if cur_b is None or a > cur_b + EPS_US:
                    if cur_b is not None:
                        total += cur_b - cur_a
                    cur_a, cur_b = a, b
                else:
                    cur_b = max(cur_b, b)
            if cur_b is not None:
                total += cur_b - cur_a
            key = proc + "." + unit + ".busy_time"
            want = values[key]["value"] * 1e6
            if abs(total - want) > max(1e-3, 1e-9 * want):
                problems.append("%s channels: union %.6f us, the stat says %.6f us"
                                % (key, total, want))
            checked += 1
    for p in problems[:50]:
        print(p)
    if problems:
        print("%d problems" % len(problems))
        return 1
    print("ok: %d events, %d slices on %d tracks, %d counter events, %d busy times checked"
          % (len(events), sum(len(s) for s in slices.values()), len(slices), counters, checked))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
