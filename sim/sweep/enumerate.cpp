#include "sim/sweep/enumerate.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace moesim::sweep {

uint64_t SplitMix64::next() {
  uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
  // Rejection sampling: drop the top partial block so every residue is equally likely.
  const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n);
  uint64_t x = next();
  while (x >= limit) x = next();
  return x % n;
}

std::string point_id(uint64_t index, uint64_t count) {
  size_t width = 4;
  for (uint64_t c = count > 0 ? count - 1 : 0; c >= 10000; c /= 10) ++width;
  return fmt::format("p{:0{}}", index, width);
}

namespace {

/// The dimensions of the grid: each is one axis or one zip group (its member axes).
std::vector<std::vector<size_t>> grid_dims(const SweepSpec& spec) {
  std::vector<std::vector<size_t>> dims;
  std::map<std::string, size_t> group_dim;
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    const std::string& z = spec.axes[a].zip;
    if (z.empty()) {
      dims.push_back({a});
      continue;
    }
    const auto it = group_dim.find(z);
    if (it == group_dim.end()) {
      group_dim[z] = dims.size();
      dims.push_back({a});
    } else {
      dims[it->second].push_back(a);
    }
  }
  return dims;
}

/// The axis choices of grid point `g` (mixed radix, last dimension fastest).
std::vector<size_t> choice_of(const SweepSpec& spec, const std::vector<std::vector<size_t>>& dims,
                              uint64_t g) {
  std::vector<size_t> choice(spec.axes.size(), 0);
  for (size_t d = dims.size(); d-- > 0;) {
    const uint64_t n = spec.axes[dims[d].front()].values.size();
    const size_t v = static_cast<size_t>(g % n);
    g /= n;
    for (size_t a : dims[d]) choice[a] = v;
  }
  return choice;
}

}  // namespace

std::vector<Point> enumerate_points(const SweepSpec& spec) {
  const auto dims = grid_dims(spec);
  uint64_t total = 1;
  for (const auto& d : dims) total *= spec.axes[d.front()].values.size();
  std::vector<uint64_t> grid;
  if (spec.mode == SweepMode::kGrid) {
    grid.resize(total);
    for (uint64_t g = 0; g < total; ++g) grid[g] = g;
  } else {
    // Floyd's algorithm: `samples` distinct values of [0, total), one draw each.
    SplitMix64 rng(spec.seed);
    std::set<uint64_t> chosen;
    for (uint64_t j = total - spec.samples; j < total; ++j) {
      const uint64_t t = rng.below(j + 1);
      if (!chosen.insert(t).second) chosen.insert(j);
    }
    grid.assign(chosen.begin(), chosen.end());
  }
  std::vector<Point> points;
  points.reserve(grid.size());
  for (uint64_t i = 0; i < grid.size(); ++i) {
    points.push_back(Point{i, point_id(i, grid.size()), choice_of(spec, dims, grid[i])});
  }
  return points;
}

std::vector<std::string> point_overrides(const SweepSpec& spec, const Point& p) {
  std::vector<std::string> out;
  for (const auto& [k, v] : spec.sets) out.push_back(k + "=" + v);
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    out.push_back(spec.axes[a].key + "=" + spec.axes[a].values[p.choice[a]].set_text);
  }
  return out;
}

}  // namespace moesim::sweep
