#pragma once
/// `moesim report OUT_DIR`: one self-contained HTML page of a run's results, made by
/// scripts/report.py on the system Python (/usr/bin/python3 with Debian's matplotlib).

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim report` with `args` (after "report"). Returns the exit code; throws
/// InputError for bad input (exit 2).
int cmd_report(const std::vector<std::string>& args);

}  // namespace moesim
