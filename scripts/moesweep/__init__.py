"""moesweep: design-space sweeps of moesim from Python.

    from moesweep import Sweep, Axis, run
    sweep = Sweep("hbm", "configs/mixtral_decode.toml",
                  axes=[Axis("hbm_bw", "chip.memory.hbm.bandwidth", ["1TB/s", "2TB/s"])],
                  set={"workload.max_steps": 2}, objective=("time_s", "min"))
    rows = run(sweep, out="out/sweeps/hbm", jobs=2)          # or scheduler="tcp://host:8786"

A SWEEP.toml runs the same way with TomlSweep(path). See docs/sweeps.md and
`python3 -m moesweep --help`.
"""

from .rows import SweepError, read_rows
from .sweep import Axis, Sweep, TomlSweep, best_row, run

__all__ = ["Axis", "Sweep", "SweepError", "TomlSweep", "best_row", "read_rows", "run"]
