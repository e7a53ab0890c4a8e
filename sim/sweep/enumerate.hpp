#pragma once
/// The points of a sweep: the grid (cross product of axes, zip groups advancing together) or
/// a seeded random draw of distinct grid points.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/sweep/spec.hpp"

namespace moesim::sweep {

/// One point of a sweep.
struct Point {
  uint64_t index = 0;          ///< position in the sweep, 0-based
  std::string id;              ///< stable name: "p" + zero-padded index ("p0007")
  std::vector<size_t> choice;  ///< index into each axis's values, per axis in spec order
};

/// Every point of `spec`, in index order. Grid: nested loops over the axes in file order,
/// the last axis varying fastest; the axes of one zip group advance together, at the place
/// of the group's first axis. Random: `samples` distinct grid points drawn with a
/// SplitMix64 stream seeded by `seed`, then put in grid order.
std::vector<Point> enumerate_points(const SweepSpec& spec);

/// The `--set` overrides of `p`: the fixed [set] ones, then one per axis ("key=value").
std::vector<std::string> point_overrides(const SweepSpec& spec, const Point& p);

/// The id of point `index` in a sweep of `count` points: "p" and at least 4 digits.
std::string point_id(uint64_t index, uint64_t count);

/// SplitMix64: the seeded generator of random draws (fixed, so draws are reproducible).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : m_state(seed) {}
  /// The next 64 random bits.
  uint64_t next();
  /// Uniform in [0, n) without modulo bias; n > 0.
  uint64_t below(uint64_t n);

 private:
  uint64_t m_state;
};

}  // namespace moesim::sweep
