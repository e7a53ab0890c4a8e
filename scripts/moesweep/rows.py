"""Result rows in exactly the formats `moesim sweep` writes (results.jsonl, results.csv).

A row's numbers keep the text they had in stats.json (or in the sweep's point list), so rows
written here and by the C++ command are byte-identical apart from wall_s. Rows are appended
with one os.write() on a file opened with O_APPEND, then os.fdatasync(); results.jsonl is
authoritative and resuming rebuilds results.csv from it (see docs/sweeps.md).
"""

import fcntl
import json
import os

SUMMARY_COLUMNS = ["cycles", "clock_hz", "time_s", "steps", "tokens", "assignments",
                   "tokens_per_s", "bottleneck", "bottleneck_kind", "bottleneck_utilisation",
                   "energy_j", "energy_per_token_j", "average_power_w"]


class Num(str):
    """A JSON number kept as the text it was written with."""


def loads(text):
    """json.loads keeping every number's text (as Num)."""
    return json.loads(text, parse_float=Num, parse_int=Num)


def quote(s, short, upper_hex=False, escape_del=False):
    """`s` in double quotes: \" and \\ escaped, the characters in `short` (of "\n\r\t") as
    \\n \\r \\t, other control characters (and DEL if `escape_del`) as \\u00xx (upper-case
    hex if `upper_hex`). The C++ side's EscapeStyle (sim/core/json_text.hpp)."""
    names = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    hex_format = "\\u%04X" if upper_hex else "\\u%04x"
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in short:
            out.append(names[ch])
        elif ord(ch) < 0x20 or (escape_del and ord(ch) == 0x7F):
            out.append(hex_format % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def json_quote(s):
    """`s` as a JSON string: \\" \\\\ \\n \\r \\t escaped, other control characters as \\u00xx."""
    return quote(s, "\n\r\t")


def json_value(v):
    """A scalar or dict in the compact form of the C++ writer."""
    if v is None:
        return "null"
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json_quote(v)
    if isinstance(v, dict):
        return "{" + ",".join(json_quote(k) + ":" + json_value(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(json_value(x) for x in v) + "]"
    raise TypeError("cannot write %r in a result row" % (v,))


def csv_field(s):
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def csv_value(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not isinstance(v, Num):
        return csv_field(repr(v))
    return csv_field(str(v))


class Columns:
    """Result columns: id, index, status, axes, summary, metrics, wall_s, error, out."""

    def __init__(self, axes, metrics, summary=None):
        self.axes = list(axes)
        self.metrics = list(metrics)
        self.summary = list(summary) if summary is not None else list(SUMMARY_COLUMNS)

    def csv_header(self):
        names = ["id", "index", "status"] + self.axes + self.summary + self.metrics
        return ",".join(csv_field(n) for n in names) + ",wall_s,error,out\n"


def make_row(point_id, index, status, params, cols, summary=None, metrics=None, wall_s=0.0,
             error="", out=""):
    """A row as a dict in column order (missing summary/metric values are None)."""
    summary = summary or {}
    metrics = metrics or {}
    return {
        "id": point_id, "index": int(index), "status": status, "params": dict(params),
        "summary": {c: summary.get(c) for c in cols.summary},
        "metrics": {m: metrics.get(m) for m in cols.metrics},
        "wall_s": float(wall_s), "error": error, "out": out,
    }


def row_jsonl(row):
    return ('{"id":%s,"index":%d,"status":%s,"params":%s,"summary":%s,"metrics":%s,'
            '"wall_s":%.3f,"error":%s,"out":%s}\n' % (
                json_quote(row["id"]), row["index"], json_quote(row["status"]),
                json_value(row["params"]), json_value(row["summary"]),
                json_value(row["metrics"]), row["wall_s"], json_quote(row["error"]),
                json_quote(row["out"])))


def row_csv(row, cols):
    fields = [csv_field(row["id"]), str(row["index"]), csv_field(row["status"])]
    fields += [csv_value(row["params"].get(a)) for a in cols.axes]
    fields += [csv_value(row["summary"].get(c)) for c in cols.summary]
    fields += [csv_value(row["metrics"].get(m)) for m in cols.metrics]
    fields += ["%.3f" % row["wall_s"], csv_field(row["error"]), csv_field(row["out"])]
    return ",".join(fields) + "\n"


def row_from_json(text):
    v = loads(text)
    if not isinstance(v, dict):
        raise ValueError("not a JSON object")
    for key in ("id", "index", "status", "params", "summary", "metrics", "wall_s", "error", "out"):
        if key not in v:
            raise ValueError('no "%s"' % key)
    v["index"] = int(v["index"])
    v["wall_s"] = float(v["wall_s"])
    return v


def read_rows(path):
    """The complete rows of a results.jsonl (a torn last line is ignored)."""
    rows = []
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    end = data.rfind("\n") + 1
    for n, line in enumerate(data[:end].splitlines(), 1):
        try:
            rows.append(row_from_json(line))
        except ValueError as e:
            raise SweepError("%s:%d: not a result row (%s)" % (path, n, e))
    return rows


class SweepError(Exception):
    """Bad input to a sweep: one message, exit code 2."""


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ResultsLog:
    """DIR/results.jsonl + DIR/results.csv, appended row by row; see `moesim sweep`."""

    def __init__(self, directory, cols, resume, note=None):
        self.dir = directory
        self.cols = cols
        jsonl = os.path.join(directory, "results.jsonl")
        csv = os.path.join(directory, "results.csv")
        have = os.path.exists(jsonl) and os.path.getsize(jsonl) > 0
        if have and not resume:
            raise SweepError("%s: holds the results of an earlier sweep (add --resume to continue "
                             "it, or choose another --out)" % directory)
        self.rows = []
        if have:
            with open(jsonl, "rb") as f:
                data = f.read()
            keep = data.rfind(b"\n") + 1
            if keep != len(data):
                os.truncate(jsonl, keep)
                if note is not None:
                    note.append("%s: dropped a torn last line (%d bytes)" % (jsonl, len(data) - keep))
            self.rows = read_rows(jsonl)
            seen = set()
            for n, r in enumerate(self.rows, 1):
                if r["id"] in seen:
                    raise SweepError("%s:%d: point '%s' is recorded twice" % (jsonl, n, r["id"]))
                seen.add(r["id"])
        write_atomic(csv, cols.csv_header() + "".join(row_csv(r, cols) for r in self.rows))
        self.done = {r["id"] for r in self.rows}
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        self._jsonl = os.open(jsonl, flags, 0o644)
        self._csv = os.open(csv, flags, 0o644)

    def append(self, row):
        for fd, line in ((self._jsonl, row_jsonl(row)), (self._csv, row_csv(row, self.cols))):
            data = line.encode("utf-8")
            if os.write(fd, data) != len(data):
                raise OSError("short write of a result row")
            os.fdatasync(fd)
        self.done.add(row["id"])
        self.rows.append(row)

    def close(self):
        os.close(self._jsonl)
        os.close(self._csv)


class DirLock:
    """An exclusive flock on DIR/.lock (the same lock `moesim sweep` takes)."""

    def __init__(self, directory):
        self.fd = os.open(os.path.join(directory, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise SweepError("%s: another moesim sweep is running in this directory" % directory)

    def release(self):
        os.close(self.fd)
