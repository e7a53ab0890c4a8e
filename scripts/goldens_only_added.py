#!/usr/bin/python3
"""Checks that regenerated goldens only add keys: every key of every golden stats.json at git
revision REV (default HEAD) is present in the working tree's file with the same value (numbers
compared as the text they were written with), recursively, and no golden file is missing.

    /usr/bin/python3 scripts/goldens_only_added.py [REV]

Prints one line per file (keys kept, keys added) and exits 1 on the first kind of difference
found in any file (a changed or removed value, a missing file).
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = "tests/regression/golden"


class Num(str):
    """A JSON number kept as its text."""


def load(text):
    return json.loads(text, parse_float=Num, parse_int=Num)


def compare(old, new, path, problems):
    """Appends to `problems` every key of `old` that `new` lacks or holds differently; returns
    (keys compared, keys only in new)."""
    if isinstance(old, dict) and isinstance(new, dict):
        kept = added = 0
        for k, v in old.items():
            if k not in new:
                problems.append("%s.%s: removed" % (path, k))
                continue
            a, b = compare(v, new[k], "%s.%s" % (path, k), problems)
            kept += a
            added += b
        added += sum(1 for k in new if k not in old)
        return kept, added
    if old != new or type(old) is not type(new):
        problems.append("%s: %r -> %r" % (path, old, new))
    return 1, 0


def main():
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, GOLDEN], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split()
    failed = False
    for name in names:
        if not name.endswith(".stats.json"):
            continue
        old = load(subprocess.run(["git", "show", "%s:%s" % (rev, name)], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout)
        try:
            with open(os.path.join(ROOT, name), encoding="utf-8") as f:
                new = load(f.read())
        except OSError:
            print("%s: missing" % name)
            failed = True
            continue
        problems = []
        kept, added = compare(old, new, "", problems)
        print("%s: %d values unchanged, %d keys added%s" %
              (name, kept, added, "" if not problems else ", %d DIFFER" % len(problems)))
        for p in problems[:20]:
            print("  " + p)
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
