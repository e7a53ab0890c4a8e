#include "sim/engine/workloads/workload_source.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "sim/core/registry.hpp"

namespace moesim {

namespace {

/// One instance of every registered source (they are stateless), made on first use.
const std::map<std::string, std::unique_ptr<WorkloadSource>>& sources() {
  static const auto all = [] {
    std::map<std::string, std::unique_ptr<WorkloadSource>> m;
    for (const auto& [name, entry] : Registry<WorkloadSource>::instance().entries()) {
      m.emplace(name, entry.create(WorkloadSource::Args{}));
    }
    return m;
  }();
  return all;
}

}  // namespace

std::vector<std::string> workload_types() {
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [name, source] : sources()) ranked.emplace_back(source->rank(), name);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (auto& [rank, name] : ranked) out.push_back(std::move(name));
  return out;
}

const WorkloadSource* workload_source(const std::string& type) {
  auto it = sources().find(type);
  return it == sources().end() ? nullptr : it->second.get();
}

}  // namespace moesim
