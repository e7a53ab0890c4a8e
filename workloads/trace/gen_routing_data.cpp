// Routing-stats CSV loader: one pass over each file, keeping the rows of the requested slice
// and the sets of names seen (for "did you mean" and "choices" in messages).

#include "workloads/trace/gen_routing_data.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/config/config.hpp"

namespace moesim {

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(
        line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!out.empty() && !out.back().empty() && out.back().back() == '\r') out.back().pop_back();
  return out;
}

/// Parses an unsigned integer column; throws "<file>:<line>: column 'c': ...".
uint64_t number(const std::string& file, uint64_t line, const char* column, const std::string& v) {
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    throw InputError(fmt::format("{}:{}: column '{}': expected an unsigned integer, got '{}'", file,
                                 line, column, v));
  }
  return std::stoull(v);
}

/// Reads a CSV with the given header, calling `row(fields, line)` for every data line.
template <class F>
void read_csv(const std::string& file, const std::string& header, size_t columns, F row) {
  std::ifstream in(file);
  if (!in) {
    throw RoutingDataError("data.stats_dir",
                           fmt::format("cannot open '{}' ({})", file, std::strerror(errno)));
  }
  std::string line;
  uint64_t n = 0;
  if (!std::getline(in, line) || split(line) != split(header)) {
    throw InputError(fmt::format("{}:1: expected the header '{}'", file, header));
  }
  ++n;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    const auto f = split(line);
    if (f.size() != columns) {
      throw InputError(
          fmt::format("{}:{}: expected {} columns, got {}", file, n, columns, f.size()));
    }
    row(f, n);
  }
}

std::string choices(const std::set<std::string>& s) {
  return fmt::format("{}", fmt::join(s, ", "));
}

/// Throws when `value` is not in `seen`: "'x' is not <what> in <file> (<list>: ...)".
void require(const std::set<std::string>& seen, const std::string& value, const std::string& key,
             const std::string& what, const std::string& file, const std::string& list) {
  if (seen.count(value)) return;
  const std::string hint = did_you_mean(value, std::vector<std::string>(seen.begin(), seen.end()));
  throw RoutingDataError(
      key, fmt::format("'{}' is not {} in '{}' ({}: {}){}", value, what, file, list, choices(seen),
                       hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

/// MoE layers of the models the data set measures (from the README: OLMoE 16, Mixtral 32).
uint32_t known_model_layers(const std::string& model) {
  if (model == "OLMoE-1B-7B") return 16;
  if (model == "Mixtral-8x7B") return 32;
  return 0;
}

}  // namespace

RoutingData load_routing_data(const RoutingDataQuery& q) {
  RoutingData d;
  const std::string counts_file = q.dir + "/expert_counts.csv";
  std::set<std::string> models, checkpoints, domains, selections;
  std::map<uint32_t, std::map<uint32_t, double>> by_layer;
  uint32_t experts = 0;
  read_csv(
      counts_file, "model,checkpoint,domain,selection,layer,expert,count", 7,
      [&](const std::vector<std::string>& f, uint64_t n) {
        models.insert(f[0]);
        if (f[0] != q.model) return;
        const uint64_t expert = number(counts_file, n, "expert", f[5]);
        if (expert >= 1u << 20) {
          throw InputError(fmt::format("{}:{}: expert {} is too large", counts_file, n, expert));
        }
        experts = std::max<uint32_t>(experts, static_cast<uint32_t>(expert) + 1);
        checkpoints.insert(f[1]);
        if (f[1] != q.checkpoint) return;
        domains.insert(f[2]);
        if (f[2] != q.domain) return;
        selections.insert(f[3]);
        if (f[3] != q.selection) return;
        const uint64_t layer = number(counts_file, n, "layer", f[4]);
        if (layer >= 1u << 20) {
          throw InputError(fmt::format("{}:{}: layer {} is too large", counts_file, n, layer));
        }
        by_layer[static_cast<uint32_t>(layer)][static_cast<uint32_t>(expert)] +=
            static_cast<double>(number(counts_file, n, "count", f[6]));
      });
  require(models, q.model, "data.model", "a model", counts_file, "models");
  require(checkpoints, q.checkpoint, "data.checkpoint", "a checkpoint of " + q.model, counts_file,
          "checkpoints");
  require(domains, q.domain, "data.domain", "a domain of " + q.model + "/" + q.checkpoint,
          counts_file, "domains");
  require(selections, q.selection, "popularity.selection",
          "a selection of " + q.model + "/" + q.checkpoint + "/" + q.domain, counts_file,
          "selections");
  d.experts = experts;
  for (const auto& [layer, counts] : by_layer) {
    d.layers.push_back(layer);
    std::vector<double> c(experts, 0.0);
    for (const auto& [e, n] : counts) c[e] = n;
    d.counts.push_back(std::move(c));
  }
  d.model_layers = known_model_layers(q.model);
  if (d.model_layers == 0) d.model_layers = d.layers.back() + 1;
  d.source = fmt::format("{}/{}/{}", q.model, q.checkpoint, q.domain);

  if (q.transition_selection.empty()) return d;
  const std::string cross_file = q.dir + "/crosslayer_counts.csv";
  std::set<std::string> cross_selections;
  std::map<std::pair<uint32_t, uint32_t>, std::vector<double>> pairs;
  read_csv(cross_file,
           "model,checkpoint,domain,selection,layer_from,layer_to,expert_from,expert_to,count", 9,
           [&](const std::vector<std::string>& f, uint64_t n) {
             if (f[0] != q.model || f[1] != q.checkpoint || f[2] != q.domain) return;
             cross_selections.insert(f[3]);
             if (f[3] != q.transition_selection) return;
             const uint64_t from = number(cross_file, n, "expert_from", f[6]);
             const uint64_t to = number(cross_file, n, "expert_to", f[7]);
             if (from >= experts || to >= experts) {
               throw InputError(fmt::format("{}:{}: expert {} out of range (the counts have {})",
                                            cross_file, n, std::max(from, to), experts));
             }
             auto& m = pairs[{static_cast<uint32_t>(number(cross_file, n, "layer_from", f[4])),
                              static_cast<uint32_t>(number(cross_file, n, "layer_to", f[5]))}];
             m.resize(static_cast<size_t>(experts) * experts, 0.0);
             m[from * experts + to] += static_cast<double>(number(cross_file, n, "count", f[8]));
           });
  if (cross_selections.empty()) {
    throw RoutingDataError(
        "affinity.selection",
        fmt::format("'{}' has no cross-layer counts for {}", cross_file, d.source));
  }
  require(cross_selections, q.transition_selection, "affinity.selection",
          "a cross-layer selection of " + d.source, cross_file, "selections");
  for (size_t i = 0; i + 1 < d.layers.size(); ++i) {
    const auto it = pairs.find({d.layers[i], d.layers[i + 1]});
    if (it == pairs.end()) {
      throw RoutingDataError("affinity.selection",
                             fmt::format("'{}' has no {} -> {} counts for {}", cross_file,
                                         d.layers[i], d.layers[i + 1], d.source));
    }
    d.transitions.push_back(it->second);
  }
  return d;
}

}  // namespace moesim
