#include "sim/engine/residency_config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "sim/config/config_fail.hpp"
#include "sim/core/display_path.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/units_text.hpp"
#include "sim/engine/run_spec.hpp"

namespace moesim {

namespace {

/// "1048576 B (1.0 MiB)".
std::string human(uint64_t b) {
  return fmt::format("{} B ({})", b, human_bytes(b));
}

}  // namespace

ParamSchema cache_schema(const std::string& policy) {
  ParamSchema s(policy + " cache");
  s.add("from", ParamType::kString,
        "tier this one caches: the home tier (mapping.weights, the default) or another cache "
        "tier")
      .default_value(std::string());
  s.add("capacity", ParamType::kSize,
        "bytes of this tier given to cached experts; 0 = the tier's capacity minus the "
        "non-expert weights pinned there")
      .default_value(Quantity{0, false});
  s.add("prefetch", ParamType::kEnum,
        "affinity: while a layer runs, copy in the experts its routing predicts for the next "
        "layer (inter-layer affinity learned online)")
      .one_of({"none", "affinity"})
      .default_value(std::string("none"));
  s.add("prefetch_experts", ParamType::kInt,
        "experts predicted per layer; 0 = as many as the current layer used")
      .range(0, 65536)
      .default_value(int64_t{0});
  // Then the policy's own parameters (its declare()).
  if (const auto* e = Registry<CacheReplacement>::instance().find(policy)) {
    for (const ParamSpec& own : e->schema.params()) {
      s.add(own.name, own.type, own.description) = own;
    }
  }
  return s;
}

ResidencySpec read_residency(Config& cfg, const ModelSpec& model, const ChipSpec& chip) {
  ResidencySpec spec;
  spec.home = chip.weights_tier;
  std::vector<std::string> tier_names;
  for (const auto& t : chip.tiers) tier_names.push_back(t.first);
  auto index_of = [&](const std::string& name) {
    return static_cast<uint8_t>(std::find(tier_names.begin(), tier_names.end(), name) -
                                tier_names.begin());
  };
  spec.home_index = index_of(spec.home);
  const std::vector<std::string> names = cfg.subtables("mapping.cache");
  if (names.empty()) return spec;

  const uint64_t expert_bytes = model.expert_bytes();
  const uint64_t dense_bytes =
      model.total_weight_bytes() - uint64_t{model.moe_layers()} * model.experts * expert_bytes;
  struct Read {
    CacheLevelSpec level;
    std::string from;
    bool explicit_capacity;
  };
  std::vector<Read> reads;
  for (const std::string& name : names) {
    const std::string path = "mapping.cache." + name;
    if (std::find(tier_names.begin(), tier_names.end(), name) == tier_names.end()) {
      const std::string hint = did_you_mean(name, tier_names);
      fail(cfg, path,
           fmt::format("'{}' is not a memory tier (tiers: {}){}", name, fmt::join(tier_names, ", "),
                       hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (name == spec.home) {
      fail(cfg, path,
           fmt::format("'{}' is the home tier of the weights (mapping.weights); a tier cannot "
                       "cache itself",
                       name));
    }
    const std::string policy = cfg.choose(path + ".policy", cache_policy_names());
    const Params p = cfg.section(path, cache_schema(policy));
    Read r;
    r.level.tier = name;
    r.level.tier_index = index_of(name);
    r.level.policy = CachePolicy(policy);
    const CacheReplacement::Facts facts = r.level.policy.facts();
    r.level.capacity_bytes = p.get_bytes("capacity");
    r.explicit_capacity = r.level.capacity_bytes != 0;
    r.level.prefetch = p.get_string("prefetch") == "affinity";
    r.level.prefetch_experts = static_cast<uint32_t>(p.get_int("prefetch_experts"));
    if (facts.sees_future) r.level.lookahead_steps = static_cast<uint64_t>(p.get_int("lookahead"));
    if (facts.pins_most_used && !p.get_string("counts").empty()) {
      // Shown relative to the working directory, as the user wrote it.
      r.level.counts_path = display_path(p.get_string("counts"));
      std::error_code ec;
      if (!std::filesystem::is_regular_file(r.level.counts_path, ec)) {
        fail(cfg, path + ".counts",
             fmt::format("cannot open expert counts file \"{}\" ({})", r.level.counts_path,
                         std::filesystem::exists(r.level.counts_path, ec)
                             ? "not a regular file"
                             : "No such file or directory"));
      }
      r.level.counts = load_expert_counts(r.level.counts_path, model.moe_layers(), model.experts);
    }
    r.from = p.get_string("from").empty() ? spec.home : p.get_string("from");
    if (r.from == name) {
      fail(cfg, path + ".from", fmt::format("'{}' cannot cache itself", name));
    }
    const bool known =
        r.from == spec.home || std::find(names.begin(), names.end(), r.from) != names.end();
    if (!known) {
      fail(cfg, path + ".from",
           fmt::format("'{}' is neither the home tier '{}' nor a cache tier (cache tiers: {})",
                       r.from, spec.home, fmt::join(names, ", ")));
    }
    for (const Read& o : reads) {
      if (o.from == r.from) {
        fail(cfg, path + ".from",
             fmt::format("'{}' is already cached by '{}' (cache tiers form a chain)", r.from,
                         o.level.tier));
      }
    }
    reads.push_back(r);
  }

  // Order the chain from the home tier up; the last one found is nearest the compute.
  std::vector<Read> chain;
  std::string below = spec.home;
  while (chain.size() < reads.size()) {
    auto it =
        std::find_if(reads.begin(), reads.end(), [&](const Read& r) { return r.from == below; });
    if (it == reads.end()) break;
    chain.push_back(*it);
    below = it->level.tier;
  }
  if (chain.size() < reads.size()) {
    for (const Read& r : reads) {
      if (std::none_of(chain.begin(), chain.end(),
                       [&](const Read& c) { return c.level.tier == r.level.tier; })) {
        fail(cfg, "mapping.cache." + r.level.tier + ".from",
             fmt::format("'{}' does not lead to the home tier '{}' (the caches form a cycle)",
                         r.from, spec.home));
      }
    }
  }
  std::reverse(chain.begin(), chain.end());

  for (size_t i = 0; i < chain.size(); ++i) {
    Read& r = chain[i];
    const std::string path = "mapping.cache." + r.level.tier;
    uint64_t tier_cap = 0;
    for (const auto& t : chip.tiers) {
      if (t.first == r.level.tier) tier_cap = t.second.facts<Memory>().capacity_bytes;
    }
    // Non-expert weights stream from the cache nearest the compute, pinned there.
    const uint64_t pinned = i == 0 ? dense_bytes : 0;
    const std::string pinned_text =
        pinned ? fmt::format(" plus the {} of non-expert weights pinned there", human(pinned)) : "";
    if (r.explicit_capacity) {
      if (r.level.capacity_bytes + pinned > tier_cap) {
        fail(
            cfg, path + ".capacity",
            fmt::format("{}{} is more than chip.memory.{}.capacity = {}",
                        human(r.level.capacity_bytes), pinned_text, r.level.tier, human(tier_cap)));
      }
    } else {
      r.level.capacity_bytes = tier_cap > pinned ? tier_cap - pinned : 0;
    }
    if (r.level.capacity_bytes < expert_bytes) {
      if (r.explicit_capacity) {
        fail(cfg, path + ".capacity",
             fmt::format("{} holds no expert of {}", human(r.level.capacity_bytes),
                         human(expert_bytes)));
      }
      fail(cfg, path,
           fmt::format("chip.memory.{}.capacity = {}{} leaves no room for an expert of {}",
                       r.level.tier, human(tier_cap),
                       pinned ? fmt::format(" minus the {} of non-expert weights pinned there",
                                            human(pinned))
                              : "",
                       human(expert_bytes)));
    }
    if (r.level.prefetch && i != 0) {
      fail(
          cfg, path + ".prefetch",
          fmt::format("only the cache nearest the compute ('{}') prefetches", chain[0].level.tier));
    }
    spec.levels.push_back(r.level);
  }
  return spec;
}

std::vector<uint64_t> expert_use_counts(const RunSpec& spec, const CacheLevelSpec& level) {
  const uint32_t experts = spec.model.experts;
  if (!level.counts.empty()) return level.counts;
  std::vector<uint64_t> counts(static_cast<size_t>(spec.model.moe_layers()) * experts, 0);
  {
    // First pass: the same stream the simulation will see, counted and forgotten step by step.
    std::unique_ptr<TraceReader> reader = open_workload(spec);
    TraceStep step;
    std::vector<uint8_t> scratch;
    uint64_t steps = 0;
    while ((spec.workload.max_steps == 0 || steps < spec.workload.max_steps) &&
           reader->next(step)) {
      ++steps;
      for_each_expert_access(step, experts, scratch,
                             [&](uint32_t l, uint32_t e) { ++counts[l * experts + e]; });
    }
    return counts;
  }
}

std::vector<uint64_t> load_expert_counts(const std::string& path, uint32_t layers,
                                         uint32_t experts) {
  std::vector<uint64_t> counts(static_cast<size_t>(layers) * experts, 0);
  std::ifstream f(path);
  if (!f) throw InputError(fmt::format("{}: cannot open expert counts file", path));
  std::string line;
  uint64_t n = 0;
  auto bad = [&](const std::string& what) {
    throw InputError(fmt::format("{}:{}: {}", path, n, what));
  };
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (n == 1) {
      if (line != "layer,expert,count") bad("expected the header 'layer,expert,count'");
      continue;
    }
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string a, b, c;
    uint64_t v[3];
    if (!std::getline(in, a, ',') || !std::getline(in, b, ',') || !std::getline(in, c) ||
        c.find(',') != std::string::npos) {
      bad(fmt::format("expected 'layer,expert,count', got \"{}\"", line));
    }
    const std::string* fields[3] = {&a, &b, &c};
    const char* names[3] = {"layer", "expert", "count"};
    for (int i = 0; i < 3; ++i) {
      const std::string& x = *fields[i];
      if (x.empty() || x.size() > 18 || x.find_first_not_of("0123456789") != std::string::npos) {
        bad(fmt::format("{}: '{}' is not a non-negative integer", names[i], x));
      }
      v[i] = std::stoull(x);
    }
    if (v[0] >= layers)
      bad(fmt::format("layer {} is out of range (the model has {} MoE layers)", v[0], layers));
    if (v[1] >= experts)
      bad(fmt::format("expert {} is out of range (the model has {} experts)", v[1], experts));
    counts[v[0] * experts + v[1]] += v[2];
  }
  return counts;
}

}  // namespace moesim
