#pragma once
/// Typed, hierarchical statistics.
///
/// A model owns its statistics as members of a StatGroup subclass; each member registers
/// itself with its group at construction, with a unit and a description. Names follow the
/// module hierarchy ("chip0.hbm.read_bytes"). Hot paths touch plain members; names are only
/// walked when results are written.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace moesim {

class StatGroup;

/// One named statistic with a unit ("cycles", "B", "B/s", "s", "flop", "ops", "1" for ratios).
class Stat {
 public:
  Stat(StatGroup* group, std::string name, std::string unit, std::string description);
  virtual ~Stat() = default;
  Stat(const Stat&) = delete;
  Stat& operator=(const Stat&) = delete;

  const std::string& name() const { return m_name; }
  const std::string& unit() const { return m_unit; }
  const std::string& description() const { return m_description; }
  /// The value as written to outputs.
  virtual double value() const = 0;
  /// True when the value is a whole number and written without a fraction.
  virtual bool is_integer() const { return false; }

 private:
  std::string m_name;
  std::string m_unit;
  std::string m_description;
};

/// A monotonically increasing count.
class Counter final : public Stat {
 public:
  using Stat::Stat;
  Counter& operator+=(uint64_t v) {
    m_value += v;
    return *this;
  }
  Counter& operator++() {
    ++m_value;
    return *this;
  }
  uint64_t get() const { return m_value; }
  double value() const override { return static_cast<double>(m_value); }
  bool is_integer() const override { return true; }

 private:
  uint64_t m_value = 0;
};

/// A real-valued statistic that a model sets or accumulates.
class Scalar final : public Stat {
 public:
  using Stat::Stat;
  void set(double v) { m_value = v; }
  Scalar& operator+=(double v) {
    m_value += v;
    return *this;
  }
  double get() const { return m_value; }
  double value() const override { return m_value; }

 private:
  double m_value = 0.0;
};

/// A statistic computed from others when results are written (utilisation, bandwidth).
class Formula final : public Stat {
 public:
  Formula(StatGroup* group, std::string name, std::string unit, std::string description,
          std::function<double()> fn)
      : Stat(group, std::move(name), std::move(unit), std::move(description)),
        m_fn(std::move(fn)) {}
  double value() const override { return m_fn(); }

 private:
  std::function<double()> m_fn;
};

/// A named group of statistics and sub-groups.
class StatGroup {
 public:
  /// `name` is this group's own name; the full name is parent's full name + "." + name.
  explicit StatGroup(std::string name, StatGroup* parent = nullptr);
  virtual ~StatGroup() = default;
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;

  const std::string& full_name() const { return m_full_name; }
  const std::vector<Stat*>& stats() const { return m_stats; }
  const std::vector<StatGroup*>& children() const { return m_children; }

  /// Calls fn(full_stat_name, stat) for every stat below this group, depth first, in
  /// declaration order.
  void visit(const std::function<void(const std::string&, const Stat&)>& fn) const;

 private:
  friend class Stat;
  std::string m_full_name;
  std::vector<Stat*> m_stats;
  std::vector<StatGroup*> m_children;
};

/// Formats a number for JSON/CSV deterministically: integers without a fraction, others
/// with the shortest representation that round-trips; non-finite values become null.
std::string format_stat_number(double v, bool is_integer);

}  // namespace moesim
