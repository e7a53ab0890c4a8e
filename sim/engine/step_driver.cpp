#include "sim/engine/step_driver.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/core/error.hpp"
#include "sim/core/sim_time.hpp"
#include "sim/core/watchdog.hpp"

namespace moesim {

StepDriver::StepDriver(const sc_core::sc_module_name& name, System& system, TraceReader& trace,
                       SystemPlanner& planner, uint64_t max_steps, Progress progress, KvBudget kv)
    : sc_core::sc_module(name),
      m_system(system),
      m_trace(trace),
      m_planner(planner),
      m_max_steps(max_steps),
      m_progress(std::move(progress)),
      m_stats(nullptr),
      m_kv(std::move(kv)),
      m_experts(trace.meta().experts) {
  const TraceMeta& meta = trace.meta();
  if (meta.tasks > 1) {
    for (uint32_t t = 0; t < meta.tasks; ++t) {
      m_task_stats.push_back(std::make_unique<TaskStats>(fmt::format("task{}", t), &m_stats));
      m_task_used.emplace_back(size_t{meta.layers} * meta.experts, false);
    }
  }
  SC_METHOD(begin);
  watchdog().describe = [this] { return describe_pending(); };
}

StepDriver::~StepDriver() {
  watchdog().describe = nullptr;
}

std::string StepDriver::describe_pending() const {
  if (!m_in_step) return {};
  const std::string work = m_system.describe_pending();
  return fmt::format("step {} (trace step {}, {} done before it){}{}", m_stats.steps.get() + 1,
                     m_step.index, m_stats.steps.get(), work.empty() ? "" : ": ", work);
}

void StepDriver::begin() {
  start_next_step();
}

void StepDriver::start_next_step() {
  // An error reading the trace (a malformed record) must not unwind through the SystemC
  // kernel: keep it, stop the simulation, and let the caller rethrow it.
  try {
    if (!plan_next_step()) m_finished = true;
  } catch (...) {
    m_error = std::current_exception();
    stop_with(m_error);
  }
}

bool StepDriver::plan_next_step() {
  if (m_max_steps != 0 && m_stats.steps.get() >= m_max_steps) return false;
  if (!m_trace.next(m_step)) return false;
  check_kv(m_step);
  const std::vector<StepPlan*>& plans = m_system.plans();
  m_planner.plan(m_step, plans, m_collectives);
  m_system.begin_step(m_collectives, m_planner.balance());
  m_step_start = sc_core::sc_time_stamp();
  // The step's tokens and assignments are the trace's; work is summed over the chips.
  m_stats.tokens += m_step.num_tokens();
  m_stats.assignments += m_step.assignments();
  count_expert_load(m_step);
  if (!m_task_stats.empty()) count_tasks(m_step);
  for (const StepPlan* p : plans) {
    m_stats.experts_run += p->experts_run;
    m_stats.ops += p->ops.size();
    m_stats.flops += p->flops;
    m_stats.weight_bytes += p->weight_bytes;
    m_stats.kv_read_bytes += p->kv_read_bytes;
    m_stats.kv_write_bytes += p->kv_write_bytes;
  }
  if (m_observer) m_observer->step_begin(m_stats.steps.get());
  m_chips_left = m_system.chips();
  m_in_step = true;
  // A chip can finish inside execute() (nothing but collectives with nothing to move); the
  // next step starts only once every sequencer has been started, never inside execute().
  m_starting = true;
  for (ChipId c = 0; c < m_system.chips(); ++c) m_system.slot(c).sequencer->execute();
  m_starting = false;
  if (m_chips_left == 0) finish_step();
  return true;
}

void StepDriver::count_expert_load(const TraceStep& step) {
  const size_t cells = size_t{step.layers} * m_experts;
  if (m_expert_load.size() < cells) m_expert_load.resize(cells, 0);
  const uint32_t tokens = step.num_tokens();
  if (tokens == 0) return;
  for (uint32_t l = 0; l < step.layers; ++l) {
    uint64_t* row = m_expert_load.data() + size_t{l} * m_experts;
    for (uint32_t r = step.route_begin(l, 0); r < step.route_end(l, tokens - 1); ++r) {
      const int32_t e = step.experts[r];
      if (e >= 0 && static_cast<uint32_t>(e) < m_experts) ++row[e];
    }
  }
}

void StepDriver::count_tasks(const TraceStep& step) {
  const uint32_t tokens = step.num_tokens();
  for (uint32_t t = 0; t < tokens; ++t) {
    const TraceToken& tok = step.tokens[t];
    TaskStats& ts = *m_task_stats[tok.task];
    ++ts.tokens;
    if (m_task_requests.insert(tok.request).second) ++ts.requests;
    std::vector<bool>& used = m_task_used[tok.task];
    for (uint32_t l = 0; l < step.layers; ++l) {
      const uint32_t b = step.route_begin(l, t), e = step.route_end(l, t);
      ts.assignments += e - b;
      for (uint32_t r = b; r < e; ++r) {
        const int32_t x = step.experts[r];
        if (x < 0 || static_cast<uint32_t>(x) >= m_experts) continue;
        const size_t cell = size_t{l} * m_experts + static_cast<uint32_t>(x);
        if (!used[cell]) {
          used[cell] = true;
          ++ts.experts_used;
        }
      }
    }
  }
}

void StepDriver::check_kv(const TraceStep& step) {
  if (m_kv.bytes_per_token == 0) return;
  m_kv_tokens.clear();
  for (const TraceToken& t : step.tokens) {
    uint32_t& n = m_kv_tokens[t.request];
    n = std::max(n, t.position + 1);
  }
  m_kv_group_tokens.assign(m_kv.groups, 0);
  for (const auto& [request, tokens] : m_kv_tokens) {
    m_kv_group_tokens[request % m_kv.groups] += tokens;
  }
  for (uint32_t g = 0; g < m_kv.groups; ++g) {
    if (m_kv.fits(m_kv_group_tokens[g])) continue;
    throw InputError(
        fmt::format("{}: step {}: the KV cache of its {} requests{}: {}", m_kv.workload, step.index,
                    m_kv_tokens.size(),
                    m_kv.groups > 1 ? fmt::format(" (data-parallel group {})", g) : std::string(),
                    m_kv.overflow(m_kv_group_tokens[g])));
  }
}

void StepDriver::chip_done(ChipId chip) {
  (void)chip;
  if (--m_chips_left != 0 || m_starting) return;
  finish_step();
}

void StepDriver::finish_step() {
  m_in_step = false;
  const double dt = (sc_core::sc_time_stamp() - m_step_start).to_seconds();
  if (m_stats.steps.get() == 0 || dt > m_stats.max_step_time.get()) m_stats.max_step_time.set(dt);
  if (m_stats.steps.get() == 0 || dt < m_stats.min_step_time.get()) m_stats.min_step_time.set(dt);
  if (m_observer) m_observer->step_end(m_stats.steps.get());
  ++m_stats.steps;
  if (m_progress) m_progress(m_stats.steps.get());
  start_next_step();
}

}  // namespace moesim
