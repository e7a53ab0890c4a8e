/// The placement policies of the multi-chip issue: round-robin, contiguous blocks, and an
/// explicit table read from a CSV file.

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/plan/placement.hpp"

namespace moesim {
namespace {

/// Expert e on chip e mod n (neighbouring experts on different chips).
class RoundRobin final : public PlacementPolicy {
 public:
  static void declare(ParamSchema&) {}
  explicit RoundRobin(const Args&) {}
  void place(uint32_t layers, uint32_t experts, uint32_t n,
             std::vector<uint32_t>& chip) const override {
    chip.resize(size_t{layers} * experts);
    for (size_t i = 0; i < chip.size(); ++i) chip[i] = static_cast<uint32_t>(i % experts % n);
  }
};

/// Experts in blocks of experts / n: chip c holds experts [c * b, (c + 1) * b).
class Contiguous final : public PlacementPolicy {
 public:
  static void declare(ParamSchema&) {}
  explicit Contiguous(const Args&) {}
  void place(uint32_t layers, uint32_t experts, uint32_t n,
             std::vector<uint32_t>& chip) const override {
    chip.resize(size_t{layers} * experts);
    const uint32_t block = experts / n;
    for (size_t i = 0; i < chip.size(); ++i) {
      chip[i] = static_cast<uint32_t>(i % experts) / block;
    }
  }
};

/// A CSV table `layer,expert,chip` (a header naming the columns, in any order; extra columns
/// ignored; `layer` may be `*` for every MoE layer). Every expert of every layer must be
/// placed exactly once.
class Table final : public PlacementPolicy {
 public:
  static void declare(ParamSchema& s) {
    s.add("path", ParamType::kPath,
          "CSV file with columns layer,expert,chip (layer '*': every MoE layer)");
  }
  explicit Table(const Args& a) : m_path(a.params.get_string("path")) {}

  void place(uint32_t layers, uint32_t experts, uint32_t n,
             std::vector<uint32_t>& chip) const override {
    std::ifstream in(m_path);
    if (!in) throw InputError(fmt::format("{}: cannot open placement table", m_path));
    chip.assign(size_t{layers} * experts, UINT32_MAX);
    std::vector<uint32_t> line_of(chip.size(), 0);
    std::string line;
    uint32_t lineno = 0;
    int col_layer = -1;
    int col_expert = -1;
    int col_chip = -1;
    size_t columns = 0;
    auto fail = [&](const std::string& what) -> void {
      throw InputError(fmt::format("{}:{}: {}", m_path, lineno, what));
    };
    while (std::getline(in, line)) {
      ++lineno;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) {
        const size_t b = x.find_first_not_of(" \t\"");
        const size_t e = x.find_last_not_of(" \t\"");
        f.push_back(b == std::string::npos ? "" : x.substr(b, e - b + 1));
      }
      if (col_layer < 0) {
        for (size_t i = 0; i < f.size(); ++i) {
          if (f[i] == "layer") col_layer = static_cast<int>(i);
          if (f[i] == "expert") col_expert = static_cast<int>(i);
          if (f[i] == "chip") col_chip = static_cast<int>(i);
        }
        if (col_layer < 0 || col_expert < 0 || col_chip < 0) {
          fail("expected a header naming the columns layer, expert and chip");
        }
        columns = f.size();
        continue;
      }
      if (f.size() != columns) {
        fail(fmt::format("{} fields, the header has {}", f.size(), columns));
      }
      auto number = [&](int col, const char* what, uint64_t limit, const std::string& range) {
        const std::string& v = f[static_cast<size_t>(col)];
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 9) {
          fail(fmt::format("{} '{}' is not a non-negative integer", what, v));
        }
        const uint64_t x = std::stoull(v);
        if (x >= limit) fail(fmt::format("{} {} does not exist ({})", what, x, range));
        return static_cast<uint32_t>(x);
      };
      const bool all = f[static_cast<size_t>(col_layer)] == "*";
      const uint32_t layer =
          all ? 0 : number(col_layer, "layer", layers, fmt::format("{} MoE layers", layers));
      const uint32_t expert =
          number(col_expert, "expert", experts, fmt::format("the model has {} experts", experts));
      const uint32_t c =
          number(col_chip, "chip", n, fmt::format("an expert-parallel group has {} chips", n));
      for (uint32_t l = all ? 0 : layer; l < (all ? layers : layer + 1); ++l) {
        const size_t key = size_t{l} * experts + expert;
        if (chip[key] != UINT32_MAX) {
          fail(fmt::format("expert {} of MoE layer {} is placed twice (also on line {})", expert, l,
                           line_of[key]));
        }
        chip[key] = c;
        line_of[key] = lineno;
      }
    }
    if (col_layer < 0) throw InputError(fmt::format("{}: empty placement table", m_path));
    for (size_t key = 0; key < chip.size(); ++key) {
      if (chip[key] == UINT32_MAX) {
        throw InputError(
            fmt::format("{}: expert {} of MoE layer {} has no chip (every expert of "
                        "every layer needs one)",
                        m_path, key % experts, key / experts));
      }
    }
  }

 private:
  std::string m_path;
};

MOESIM_REGISTER(PlacementPolicy, RoundRobin, "round_robin",
                "expert e on chip e mod (expert-parallel chips)");
MOESIM_REGISTER(PlacementPolicy, Contiguous, "contiguous",
                "experts in equal consecutive blocks, one block per chip");
MOESIM_REGISTER(PlacementPolicy, Table, "table", "an explicit table: CSV rows layer,expert,chip");

}  // namespace
}  // namespace moesim
