"""Running points: one `moesim run` process each, locally or on a Dask cluster."""

import os
import signal
import subprocess
import sys
import time

from .rows import loads

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def default_moesim():
    """$MOESIM_BIN, else build/moesim of this source tree."""
    return os.environ.get("MOESIM_BIN") or os.path.join(REPO, "build", "moesim")


def last_line(path):
    """The last non-empty line of a file ("" if none)."""
    last = ""
    try:
        with open(path, "rb") as f:
            for raw in f:
                line = raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r")
                if line.strip(" \t"):
                    last = line
    except OSError:
        pass
    return last


def run_point(task):
    """Runs one point (a dict made by Sweep.tasks()) and returns its outcome.

    Module-level and free of closures so Dask workers can run it. The outcome mirrors what
    `moesim sweep` records: status (ok, failed, timeout, crashed), error, summary and metric
    values (number text kept) and wall_s.
    """
    pdir = task["dir"]
    os.makedirs(pdir, exist_ok=True)
    err_path = os.path.join(pdir, "stderr.log")
    argv = [task["moesim"], "run", task["base"]]
    for o in task["overrides"]:
        argv += ["--set", o]
    argv += ["--out", pdir, "--quiet"]
    timeout = task["timeout_s"] or None
    start = time.monotonic()
    timed_out = False
    with open(err_path, "wb") as err:
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err, start_new_session=True)
        except OSError as e:
            return {"status": "failed", "error": "cannot run %s (%s)" % (argv[0], e.strerror),
                    "summary": {}, "metrics": {}, "wall_s": time.monotonic() - start}
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
            timed_out = True
    wall = time.monotonic() - start
    last = last_line(err_path)
    out = {"status": "ok", "error": "", "summary": {}, "metrics": {}, "wall_s": wall}
    if timed_out:
        out["status"] = "timeout"
        out["error"] = "timed out after %s (killed)" % task["timeout_text"]
    elif rc < 0:
        out["status"] = "crashed"
        out["error"] = "killed by signal %d (%s)%s" % (-rc, signal.strsignal(-rc),
                                                      ": " + last if last else "")
    elif rc > 0:
        out["status"] = "failed"
        out["error"] = last or "exit code %d" % rc
    else:
        stats_path = os.path.join(pdir, "stats.json")
        try:
            with open(stats_path, encoding="utf-8") as f:
                doc = loads(f.read())
            out["summary"] = {c: doc["summary"].get(c) for c in task["summary"]}
            out["metrics"] = {m: doc["stats"].get(s, {}).get("value")
                              for m, s in zip(task["metrics"], task["metric_stats"])}
        except (OSError, ValueError, KeyError, AttributeError) as e:
            out["status"] = "failed"
            out["error"] = "%s: unreadable after a successful run (%s)" % (stats_path, e)
    if os.path.exists(err_path) and os.path.getsize(err_path) == 0:
        os.remove(err_path)
    return out


def execute(tasks, jobs=1, scheduler=None, on_done=None):
    """Runs `tasks`, calling on_done(task, outcome) as each ends (in completion order).

    scheduler None: a local pool of `jobs` concurrent point processes. Otherwise the address
    of a Dask distributed scheduler ("tcp://host:port"); every worker must see the sweep
    directory and the moesim binary at the same paths (a shared file system).
    """
    if not tasks:
        return
    if scheduler is None:
        from concurrent.futures import ThreadPoolExecutor, as_completed
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(run_point, t): t for t in tasks}
            for f in as_completed(futures):
                on_done(futures[f], f.result())
        return
    import uuid
    from distributed import Client, as_completed
    client = Client(scheduler, timeout="30s")
    run_tag = uuid.uuid4().hex[:12]  # keys unique per run: two sweeps may share a cluster
    try:
        futures = {}
        for t in tasks:
            f = client.submit(run_point, t, pure=False,
                              key="moesweep-%s-%s-%s" % (t["hash"], run_tag, t["id"]))
            futures[f.key] = (f, t)
        for f in as_completed([f for f, _ in futures.values()]):
            on_done(futures[f.key][1], f.result())
    finally:
        client.close()


def progress_line(done, total, row, quiet):
    if quiet:
        return
    err = "  " + row["error"] if row["error"] else ""
    sys.stderr.write("sweep: %d/%d %s %s %.2fs%s\n" % (done, total, row["id"], row["status"],
                                                      row["wall_s"], err))
    sys.stderr.flush()
