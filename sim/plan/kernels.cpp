#include "sim/plan/kernels.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "sim/config/config.hpp"
#include "sim/core/error.hpp"

namespace moesim {

namespace {

const Segment kMoeOrder[] = {Segment::kAttnNorm, Segment::kAttention, Segment::kFfnNorm,
                             Segment::kGating,   Segment::kExperts,   Segment::kSharedExperts,
                             Segment::kCombine};
const Segment kDenseOrder[] = {Segment::kAttnNorm, Segment::kAttention, Segment::kFfnNorm,
                               Segment::kDenseFfn};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(trim(s.substr(start, p == std::string::npos ? std::string::npos : p - start)));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

/// Whether the members of `group` that occur in `order` are contiguous there.
template <size_t N>
bool contiguous(const std::set<Segment>& group, const Segment (&order)[N]) {
  int first = -1, last = -1, count = 0;
  for (size_t i = 0; i < N; ++i) {
    if (group.count(order[i])) {
      if (first < 0) first = static_cast<int>(i);
      last = static_cast<int>(i);
      ++count;
    }
  }
  return count == 0 || last - first + 1 == count;
}

bool is_ffn(Segment s) {
  return s == Segment::kExperts || s == Segment::kSharedExperts || s == Segment::kDenseFfn;
}

bool is_compute(const Op& op) {
  return op.kind == OpKind::kGemm || op.kind == OpKind::kVector;
}

/// The segment of a compute op; `norms_seen` counts the layer's norm ops before it.
Segment segment_of(const Op& op, uint32_t norms_seen) {
  switch (op.cls) {
    case OpClass::kAttention:
      return Segment::kAttention;
    case OpClass::kGating:
      return Segment::kGating;
    case OpClass::kExperts:
      return Segment::kExperts;
    case OpClass::kShared:
      return Segment::kSharedExperts;
    case OpClass::kDense:
      return Segment::kDenseFfn;
    case OpClass::kCombine:
      return Segment::kCombine;
    case OpClass::kNorm:
      return norms_seen == 0 ? Segment::kAttnNorm : Segment::kFfnNorm;
  }
  return Segment::kAttnNorm;
}

}  // namespace

const char* segment_name(Segment s) {
  switch (s) {
    case Segment::kAttnNorm:
      return "attn_norm";
    case Segment::kAttention:
      return "attention";
    case Segment::kFfnNorm:
      return "ffn_norm";
    case Segment::kGating:
      return "gating";
    case Segment::kExperts:
      return "experts";
    case Segment::kSharedExperts:
      return "shared_experts";
    case Segment::kCombine:
      return "combine";
    case Segment::kDenseFfn:
      return "dense_ffn";
  }
  return "?";
}

std::optional<std::string> parse_kernel_groups(const std::string& text, FusionSpec& spec) {
  std::fill(std::begin(spec.group_of), std::end(spec.group_of), int8_t{-1});
  spec.groups = 0;
  const std::vector<std::string> tokens = split(text, ',');
  if (tokens.size() == 1 && tokens[0] == "none") return std::nullopt;
  std::vector<std::string> names;
  for (int s = 0; s < kNumSegments; ++s) names.push_back(segment_name(static_cast<Segment>(s)));
  const std::vector<std::string> presets = {"attention_block", "expert_ffn", "decoder_layer"};
  std::vector<std::pair<std::string, std::set<Segment>>> groups;
  for (const std::string& tok : tokens) {
    if (tok.empty()) return fmt::format("an empty group in '{}'", text);
    if (tok == "none") return std::string("'none' cannot be combined with other groups");
    if (tok == "attention_block") {
      groups.push_back({tok, {Segment::kAttnNorm, Segment::kAttention, Segment::kFfnNorm}});
      continue;
    }
    if (tok == "expert_ffn") {
      groups.push_back({tok, {Segment::kExperts}});
      groups.push_back({tok, {Segment::kSharedExperts}});
      groups.push_back({tok, {Segment::kDenseFfn}});
      continue;
    }
    if (tok == "decoder_layer") {
      std::set<Segment> all;
      for (int s = 0; s < kNumSegments; ++s) all.insert(static_cast<Segment>(s));
      groups.push_back({tok, all});
      continue;
    }
    std::set<Segment> g;
    for (const std::string& name : split(tok, '+')) {
      const auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        std::vector<std::string> all = names;
        all.insert(all.end(), presets.begin(), presets.end());
        const std::string hint = did_you_mean(name, all);
        return fmt::format("unknown segment '{}' in group '{}' (segments: {}; presets: {}){}", name,
                           tok, fmt::join(names, ", "), fmt::join(presets, ", "),
                           hint.empty() ? "" : " (did you mean '" + hint + "'?)");
      }
      g.insert(static_cast<Segment>(it - names.begin()));
    }
    if (!contiguous(g, kMoeOrder) || !contiguous(g, kDenseOrder)) {
      return fmt::format(
          "group '{}': its segments are not consecutive in a decoder layer (MoE layer: "
          "attn_norm, attention, ffn_norm, gating, experts, shared_experts, combine; dense "
          "layer: attn_norm, attention, ffn_norm, dense_ffn)",
          tok);
    }
    groups.push_back({tok, g});
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    for (Segment s : groups[i].second) {
      int8_t& slot = spec.group_of[static_cast<int>(s)];
      if (slot >= 0) {
        return fmt::format("segment '{}' is in two groups ('{}' and '{}')", segment_name(s),
                           groups[static_cast<size_t>(slot)].first, groups[i].first);
      }
      slot = static_cast<int8_t>(i);
    }
  }
  spec.groups = static_cast<uint32_t>(groups.size());
  return std::nullopt;
}

void form_kernels(StepPlan& plan, const FusionSpec& spec, std::vector<Kernel>& kernels,
                  SpillCounts& spills) {
  kernels.clear();
  const auto n = static_cast<uint32_t>(plan.ops.size());
  // Groups that are one FFN segment alone: one kernel per FFN.
  std::vector<uint32_t> members(spec.groups, 0);
  std::vector<bool> single_ffn(spec.groups, false);
  for (int s = 0; s < kNumSegments; ++s) {
    if (spec.group_of[s] >= 0) ++members[static_cast<size_t>(spec.group_of[s])];
  }
  for (int s = 0; s < kNumSegments; ++s) {
    const int g = spec.group_of[s];
    if (g >= 0 && members[static_cast<size_t>(g)] == 1 && is_ffn(static_cast<Segment>(s))) {
      single_ffn[static_cast<size_t>(g)] = true;
    }
  }

  // 1. Kernels over the planned ops: a compute op starts a kernel unless it continues the
  // open group kernel; DMA ops join the kernel of the compute op after them.
  std::vector<uint32_t> kernel_of(n, 0);
  struct Key {
    uint32_t layer;
    int group;
    uint32_t ffn;
    bool operator==(const Key& o) const {
      return layer == o.layer && group == o.group && ffn == o.ffn;
    }
  };
  bool open = false;  // the last kernel is a group kernel that may continue
  Key open_key{0, -1, 0};
  uint32_t pending = UINT32_MAX;  // first DMA op not yet in a kernel
  uint32_t norm_layer = UINT32_MAX;
  uint32_t norms = 0;
  auto start_kernel = [&](uint32_t first, bool fused, Segment seg) {
    if (!kernels.empty()) kernels.back().end = first;
    Kernel k;
    k.begin = first;
    k.fused = fused;
    k.segment = seg;
    kernels.push_back(k);
  };
  for (uint32_t i = 0; i < n; ++i) {
    const Op& op = plan.ops[i];
    if (op.kind == OpKind::kComm) {
      start_kernel(pending != UINT32_MAX ? pending : i, false, Segment::kAttnNorm);
      pending = UINT32_MAX;
      open = false;
      continue;
    }
    if (!is_compute(op)) {
      if (pending == UINT32_MAX) pending = i;
      continue;
    }
    if (op.layer != norm_layer) {
      norm_layer = op.layer;
      norms = 0;
    }
    const Segment seg = segment_of(op, norms);
    if (op.cls == OpClass::kNorm) ++norms;
    const int g = spec.group_of[static_cast<int>(seg)];
    const Key key{op.layer, g, g >= 0 && single_ffn[static_cast<size_t>(g)] ? op.ffn : 0};
    const bool continues = g >= 0 && open && open_key == key;
    if (!continues) {
      start_kernel(pending != UINT32_MAX ? pending : i, g >= 0, seg);
      open = g >= 0;
      open_key = key;
    }
    pending = UINT32_MAX;
    ++kernels.back().compute_ops;
  }
  if (kernels.empty() && n > 0) start_kernel(0, false, Segment::kAttnNorm);
  if (!kernels.empty()) kernels.back().end = n;
  for (uint32_t k = 0; k < kernels.size(); ++k) {
    for (uint32_t i = kernels[k].begin; i < kernels[k].end; ++i) kernel_of[i] = k;
  }

  // 2. Intermediates read by a later kernel that exceed the budget.
  std::map<uint32_t, std::set<uint32_t>> spilled;  // producer -> consumer kernels
  for (uint32_t c = 0; c < n; ++c) {
    const Op& op = plan.ops[c];
    if (!is_compute(op)) continue;
    for (uint32_t d = 0; d < op.dep_count; ++d) {
      const uint32_t p = plan.deps[op.dep_begin + d];
      const Op& prod = plan.ops[p];
      if (is_compute(prod) && kernel_of[p] != kernel_of[c] && prod.out_bytes > spec.sram_budget) {
        spilled[p].insert(kernel_of[c]);
      }
    }
  }
  if (spilled.empty()) return;
  // Loads at the start of each consuming kernel (by producer order).
  std::vector<std::vector<uint32_t>> loads_at(kernels.size());
  for (const auto& [p, ks] : spilled) {
    for (uint32_t k : ks) loads_at[k].push_back(p);
  }

  // 3. The plan again with the spill ops inserted; dependencies renumbered.
  std::vector<Op> ops;
  std::vector<uint32_t> deps;
  ops.reserve(n + 3 * spilled.size());
  std::vector<uint32_t> renum(n, 0);
  std::map<uint32_t, uint32_t> store_of;                      // producer -> its store op
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> load_of;  // (producer, kernel) -> load op
  auto push = [&](Op op, const std::vector<uint32_t>& d) {
    op.dep_begin = static_cast<uint32_t>(deps.size());
    op.dep_count = static_cast<uint32_t>(d.size());
    deps.insert(deps.end(), d.begin(), d.end());
    ops.push_back(op);
    return static_cast<uint32_t>(ops.size() - 1);
  };
  std::vector<uint32_t> d;
  for (uint32_t k = 0; k < kernels.size(); ++k) {
    const uint32_t begin = static_cast<uint32_t>(ops.size());
    for (uint32_t p : loads_at[k]) {
      const Op& prod = plan.ops[p];
      Op ld;
      ld.kind = OpKind::kLoad;
      ld.cls = prod.cls;
      ld.mem = MemRole::kKvCache;
      ld.src_tier = spec.spill_tier;
      ld.layer = plan.ops[kernels[k].begin].layer;
      ld.bytes = prod.out_bytes;
      load_of[{p, k}] = push(ld, {store_of.at(p)});
      spills.load_bytes += prod.out_bytes;
    }
    for (uint32_t i = kernels[k].begin; i < kernels[k].end; ++i) {
      const Op& op = plan.ops[i];
      d.clear();
      for (uint32_t j = 0; j < op.dep_count; ++j) {
        const uint32_t p = plan.deps[op.dep_begin + j];
        d.push_back(renum[p]);
        if (is_compute(op)) {
          const auto it = load_of.find({p, k});
          if (it != load_of.end()) d.push_back(it->second);
        }
      }
      renum[i] = push(op, d);
      if (spilled.count(i)) {
        Op st;
        st.kind = OpKind::kStore;
        st.cls = op.cls;
        st.mem = MemRole::kKvCache;
        st.src_tier = spec.spill_tier;
        st.layer = op.layer;
        st.bytes = op.out_bytes;
        store_of[i] = push(st, {renum[i]});
        spills.store_bytes += op.out_bytes;
        ++spills.spills;
      }
    }
    kernels[k].begin = begin;
    kernels[k].end = static_cast<uint32_t>(ops.size());
  }
  plan.ops.swap(ops);
  plan.deps.swap(deps);
}

std::vector<double> stage_shares(ShareRule rule, const std::vector<uint64_t>& work) {
  std::vector<double> out(work.size(), work.empty() ? 0.0 : 1.0 / static_cast<double>(work.size()));
  if (rule == ShareRule::kEqual) return out;
  uint64_t total = 0;
  for (uint64_t w : work) total += w;
  if (total == 0) return out;
  for (size_t i = 0; i < work.size(); ++i) {
    out[i] = static_cast<double>(work[i]) / static_cast<double>(total);
  }
  return out;
}

uint64_t pipeline_cycles(const std::vector<uint64_t>& stage_cycles, uint64_t tiles) {
  if (stage_cycles.empty()) return 0;
  if (tiles == 0) throw InternalError("pipeline_cycles: at least one tile");
  uint64_t sum = 0, mx = 0;
  for (uint64_t c : stage_cycles) {
    const uint64_t t = (c + tiles - 1) / tiles;
    sum += t;
    mx = std::max(mx, t);
  }
  return sum + (tiles - 1) * mx;
}

}  // namespace moesim
