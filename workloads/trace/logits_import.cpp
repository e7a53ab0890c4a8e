#include "workloads/trace/logits_import.hpp"

#include "sim/core/error.hpp"

namespace moesim {

std::unique_ptr<LogImporter> open_logits_import(const std::vector<std::string>& paths,
                                                const ImportOptions&) {
  throw InputError(paths.empty() ? "logits" : paths[0] + ": logits import not built");
}

}  // namespace moesim
