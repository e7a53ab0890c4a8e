#include "sim/core/stats.hpp"

#include <cmath>

#include <fmt/format.h>

namespace moesim {

Stat::Stat(StatGroup* group, std::string name, std::string unit, std::string description)
    : m_name(std::move(name)), m_unit(std::move(unit)), m_description(std::move(description)) {
  group->m_stats.push_back(this);
}

StatGroup::StatGroup(std::string name, StatGroup* parent)
    : m_full_name(parent ? parent->m_full_name + "." + name : std::move(name)) {
  if (parent) parent->m_children.push_back(this);
}

void StatGroup::visit(const std::function<void(const std::string&, const Stat&)>& fn) const {
  for (const Stat* s : m_stats) fn(m_full_name + "." + s->name(), *s);
  for (const StatGroup* g : m_children) g->visit(fn);
}

std::string format_stat_number(double v, bool is_integer) {
  if (!std::isfinite(v)) return "null";
  if (is_integer) return fmt::format("{}", static_cast<uint64_t>(v));
  if (v == 0.0) return "0";
  return fmt::format("{}", v);
}

}  // namespace moesim
