#include "sim/output/timeline.hpp"

#include <cerrno>
#include <cstring>
#include <iterator>
#include <string_view>

#include <fmt/format.h>
#include <systemc>

#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/core/output_path.hpp"
#include "sim/core/timeline.hpp"

namespace moesim {

namespace {

using Buffer = fmt::memory_buffer;

void put(Buffer& b, std::string_view s) {
  b.append(s.data(), s.data() + s.size());
}

void put_u64(Buffer& b, uint64_t v) {
  const fmt::format_int f(v);
  b.append(f.data(), f.data() + f.size());
}

/// Picoseconds as microseconds (the Trace Event time unit), exactly: "123.000456".
void append_us(Buffer& out, uint64_t ps) {
  put_u64(out, ps / 1000000);
  char frac[7];
  uint64_t r = ps % 1000000;
  for (int i = 6; i > 0; --i) {
    frac[i] = static_cast<char>('0' + r % 10);
    r /= 10;
  }
  frac[0] = '.';
  out.append(frac, frac + 7);
}

uint64_t now_ps() {
  return sc_core::sc_time_stamp().value();
}

std::string json_quoted(const std::string& s) {
  std::string out = "\"";
  append_escaped(out, s);
  out += '"';
  return out;
}

/// "chip0.hbm" -> "hbm": tracks are named inside their chip's process.
std::string local_name(const std::string& full) {
  const size_t dot = full.find('.');
  return dot == std::string::npos ? full : full.substr(dot + 1);
}

}  // namespace

/// The file being written: events are appended to a buffer flushed in blocks.
class TimelineJson {
 public:
  // A symbolic link, device or FIFO (/dev/stdout) is written in place (write_in_place()).
  explicit TimelineJson(std::string path)
      : m_path(std::move(path)),
        m_in_place(write_in_place(m_path)),
        m_tmp(m_in_place ? m_path : m_path + ".tmp") {
    m_file = std::fopen(m_tmp.c_str(), "wb");
    if (!m_file) {
      throw InputError(
          fmt::format("--timeline {}: cannot write ({})", m_path, std::strerror(errno)));
    }
    m_buf.reserve(kFlushBytes + 4096);
    put(m_buf, "{\"traceEvents\":[\n");
  }
  ~TimelineJson() {
    if (m_file) std::fclose(m_file);
    if (!m_renamed && !m_in_place) std::remove(m_tmp.c_str());
  }
  /// The buffer, ready for one more event.
  Buffer& event() {
    if (m_events++ > 0) put(m_buf, ",\n");
    return m_buf;
  }
  void done_event() {
    if (m_buf.size() >= kFlushBytes) flush();
  }
  void metadata(const char* what, uint32_t pid, uint32_t tid, const std::string& value,
                bool thread) {
    Buffer& b = event();
    fmt::format_to(fmt::appender(b), "{{\"ph\":\"M\",\"pid\":{},", pid);
    if (thread) fmt::format_to(fmt::appender(b), "\"tid\":{},", tid);
    fmt::format_to(fmt::appender(b), "\"name\":\"{}\",\"args\":{{\"{}\":{}}}}}", what,
                   std::strcmp(what, "process_name") == 0 || std::strcmp(what, "thread_name") == 0
                       ? "name"
                       : "sort_index",
                   value);
    done_event();
  }
  /// Ends the event array and closes the file (still FILE.tmp).
  void close(const std::string& other_data) {
    put(m_buf, "\n],\"displayTimeUnit\":\"ns\",\"otherData\":");
    put(m_buf, other_data);
    put(m_buf, "}\n");
    flush();
    const bool ok = std::fflush(m_file) == 0;
    if (!ok && !m_failed) m_error = std::strerror(errno);
    const bool closed = std::fclose(m_file) == 0;
    if (!closed && !m_failed && ok) m_error = std::strerror(errno);
    m_file = nullptr;
    if (m_failed || !ok || !closed) {
      throw InputError(fmt::format("{}: write failed ({})", m_tmp, m_error));
    }
  }
  void rename() {
    if (!m_in_place && std::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
      throw InputError(
          fmt::format("{}: cannot rename into place ({})", m_path, std::strerror(errno)));
    }
    m_renamed = true;
  }
  const std::string& path() const { return m_path; }

 private:
  static constexpr size_t kFlushBytes = size_t{1} << 20;
  // Called from inside the simulation, where nothing may throw: a failure is kept and
  // reported by close().
  void flush() {
    if (!m_failed && m_buf.size() != 0 &&
        std::fwrite(m_buf.data(), 1, m_buf.size(), m_file) != m_buf.size()) {
      m_failed = true;
      m_error = std::strerror(errno);
    }
    m_buf.clear();
  }
  std::string m_path;
  bool m_in_place;
  std::string m_tmp;
  std::FILE* m_file = nullptr;
  Buffer m_buf;
  uint64_t m_events = 0;
  bool m_renamed = false;
  bool m_failed = false;
  std::string m_error;
};

namespace {

/// A counter track whose value changes at given times; repeated values are not written, and
/// of several values at one time only the last.
class CounterTrack {
 public:
  CounterTrack(TimelineJson& json, uint32_t pid, std::string name, std::vector<std::string> keys)
      : m_json(json), m_pid(pid), m_name(json_quoted(std::move(name))), m_keys(std::move(keys)) {
    m_pending.assign(m_keys.size(), 0.0);
    m_written.assign(m_keys.size(), -1.0);
  }
  void set(uint64_t t_ps, const double* values) {
    if (m_has_pending && t_ps != m_t) write();
    m_t = t_ps;
    m_has_pending = true;
    for (size_t i = 0; i < m_keys.size(); ++i) m_pending[i] = values[i];
  }
  void flush() {
    if (m_has_pending) write();
    m_has_pending = false;
  }

 private:
  void write() {
    if (m_pending == m_written) return;
    Buffer& b = m_json.event();
    put(b, "{\"ph\":\"C\",\"pid\":");
    put_u64(b, m_pid);
    put(b, ",\"name\":");
    put(b, m_name);
    put(b, ",\"ts\":");
    append_us(b, m_t);
    put(b, ",\"args\":{");
    for (size_t i = 0; i < m_keys.size(); ++i) {
      if (i) put(b, ",");
      put(b, "\"");
      put(b, m_keys[i]);
      put(b, "\":");
      // Shortest form that reads back exactly (GB/s, MiB).
      fmt::format_to(fmt::appender(b), "{}", m_pending[i]);
    }
    put(b, "}}");
    m_json.done_event();
    m_written = m_pending;
  }
  TimelineJson& m_json;
  uint32_t m_pid;
  std::string m_name;
  std::vector<std::string> m_keys;
  std::vector<double> m_pending;
  std::vector<double> m_written;
  uint64_t m_t = 0;
  bool m_has_pending = false;
};

void write_slice(TimelineJson& json, uint32_t pid, uint32_t tid, uint64_t begin, uint64_t end,
                 const char* name) {
  Buffer& b = json.event();
  put(b, "{\"ph\":\"X\",\"pid\":");
  put_u64(b, pid);
  put(b, ",\"tid\":");
  put_u64(b, tid);
  put(b, ",\"ts\":");
  append_us(b, begin);
  put(b, ",\"dur\":");
  append_us(b, end - begin);
  put(b, ",\"name\":\"");
  put(b, name);
  put(b, "\"}");
  json.done_event();
}

}  // namespace

/// The SRAM bytes a chip's DMA loads hold: from the load's start until the last op that
/// depends on it has ended.
class ChipBuffers {
 public:
  ChipBuffers(TimelineJson& json, uint32_t pid, const StepPlan& plan)
      : m_plan(plan), m_counter(json, pid, "sram buffers (MiB)", {"MiB"}) {}
  void step_begin() {
    const size_t n = m_plan.ops.size();
    m_consumers.assign(n, 0);
    for (const Op& op : m_plan.ops) {
      for (uint32_t d = 0; d < op.dep_count; ++d) {
        const uint32_t dep = m_plan.deps[op.dep_begin + d];
        if (m_plan.ops[dep].kind == OpKind::kLoad) ++m_consumers[dep];
      }
    }
  }
  void op_begin(uint32_t op, uint64_t t) {
    const Op& o = m_plan.ops[op];
    if (o.kind != OpKind::kLoad) return;
    m_bytes += o.bytes;
    emit(t);
  }
  void op_end(uint32_t op, uint64_t t) {
    const Op& o = m_plan.ops[op];
    const uint64_t before = m_bytes;
    if (o.kind == OpKind::kLoad && m_consumers[op] == 0) m_bytes -= o.bytes;
    for (uint32_t d = 0; d < o.dep_count; ++d) {
      const uint32_t dep = m_plan.deps[o.dep_begin + d];
      if (m_plan.ops[dep].kind == OpKind::kLoad && --m_consumers[dep] == 0) {
        m_bytes -= m_plan.ops[dep].bytes;
      }
    }
    if (m_bytes != before) emit(t);
  }
  void flush() { m_counter.flush(); }

 private:
  void emit(uint64_t t) {
    const double mib = static_cast<double>(m_bytes) / (1024.0 * 1024.0);
    m_counter.set(t, &mib);
  }
  const StepPlan& m_plan;
  CounterTrack m_counter;
  std::vector<uint32_t> m_consumers;
  uint64_t m_bytes = 0;
};

/// One unit's track: each op a slice; a unit with several slots (DMA channels) has its busy
/// periods on its own track and the ops on one track per channel (an op takes the lowest
/// free channel).
class UnitTrack final : public UnitTimeline {
 public:
  UnitTrack(TimelineJson& json, Unit& unit, const StepPlan& plan, ChipBuffers& buffers,
            uint32_t pid, uint32_t tid, uint32_t lane_tid, const std::vector<std::string>& tiers)
      : m_json(json),
        m_unit(unit),
        m_plan(plan),
        m_buffers(buffers),
        m_pid(pid),
        m_tid(tid),
        m_lane_tid(lane_tid),
        m_name(local_name(unit.unit_stats().full_name())),
        m_tiers(tiers),
        m_lanes(unit.slots() > 1 ? unit.slots() : 0) {
    json.metadata("thread_name", pid, tid, json_quoted(m_name), true);
    json.metadata("thread_sort_index", pid, tid, std::to_string(tid), true);
  }
  Unit& unit() { return m_unit; }
  void set_step(uint64_t n) { m_step = n; }

  void op_begin(uint32_t op, uint64_t now, bool first) override {
    if (first) m_busy_begin = now;
    m_buffers.op_begin(op, now);
    if (m_lanes.empty()) {
      m_op_begin = now;
      return;
    }
    for (size_t i = 0; i < m_lanes.size(); ++i) {
      Lane& l = m_lanes[i];
      if (l.busy) continue;
      l.busy = true;
      l.op = op;
      l.begin = now;
      if (!l.named) {
        l.named = true;
        const uint32_t tid = m_lane_tid + static_cast<uint32_t>(i);
        m_json.metadata("thread_name", m_pid, tid, json_quoted(fmt::format("{}.ch{}", m_name, i)),
                        true);
        m_json.metadata("thread_sort_index", m_pid, tid, std::to_string(tid), true);
      }
      return;
    }
  }

  void op_end(uint32_t op, uint64_t now, bool last) override {
    m_buffers.op_end(op, now);
    if (m_lanes.empty()) {
      op_slice(m_tid, op, m_op_begin, now);
      return;
    }
    for (size_t i = 0; i < m_lanes.size(); ++i) {
      Lane& l = m_lanes[i];
      if (!l.busy || l.op != op) continue;
      l.busy = false;
      op_slice(m_lane_tid + static_cast<uint32_t>(i), op, l.begin, now);
      break;
    }
    if (last && now > m_busy_begin) write_slice(m_json, m_pid, m_tid, m_busy_begin, now, "busy");
  }

  void external_busy(uint64_t begin, uint64_t end) override {
    if (end > begin) write_slice(m_json, m_pid, m_tid, begin, end, "fused kernel stages");
  }

 private:
  struct Lane {
    uint32_t op = 0;
    uint64_t begin = 0;
    bool busy = false;
    bool named = false;
  };

  const char* tier_name(uint8_t t) const {
    return t < m_tiers.size() ? m_tiers[t].c_str() : "tier";
  }

  void op_slice(uint32_t tid, uint32_t op, uint64_t begin, uint64_t end) {
    if (end <= begin) return;  // a zero-length op (nothing to move) is no slice
    const Op& o = m_plan.ops[op];
    const char* cls = op_class_name(o.cls);
    Buffer& b = m_json.event();
    put(b, "{\"ph\":\"X\",\"pid\":");
    put_u64(b, m_pid);
    put(b, ",\"tid\":");
    put_u64(b, tid);
    put(b, ",\"ts\":");
    append_us(b, begin);
    put(b, ",\"dur\":");
    append_us(b, end - begin);
    put(b, ",\"cat\":\"");
    put(b, cls);
    put(b, "\",\"name\":\"L");
    put_u64(b, o.layer);
    put(b, " ");
    put(b, cls);
    if (o.expert != kNoExpert) {
      put(b, " e");
      put_u64(b, o.expert);
    }
    // The kind, or for vector and comm ops what they compute; a copy names its tiers.
    put(b, " ");
    if (o.kind == OpKind::kVector) {
      put(b, vec_fn_name(o.vfn));
    } else if (o.kind == OpKind::kComm) {
      put(b, comm_role_name(o.comm_role));
    } else {
      put(b, op_kind_name(o.kind));
    }
    if (o.kind == OpKind::kCopy) {
      put(b, " ");
      put(b, tier_name(o.src_tier));
      put(b, "->");
      put(b, tier_name(o.dst_tier));
    }
    put(b, "\",\"args\":{\"step\":");
    put_u64(b, m_step);
    put(b, ",\"op\":");
    put_u64(b, op);
    put(b, ",\"bytes\":");
    put_u64(b, o.bytes);
    if (o.kind == OpKind::kGemm) {
      put(b, ",\"flops\":");
      put_u64(b, o.flops);
    }
    if (o.kind == OpKind::kVector) {
      put(b, ",\"elements\":");
      put_u64(b, o.elements);
    }
    if (o.kind == OpKind::kLoad || o.kind == OpKind::kStore) {
      const uint8_t t = o.src_tier;
      put(b, ",\"tier\":\"");
      put(b, t == kRoleTier ? (o.mem == MemRole::kWeights ? "weights" : "kv_cache") : tier_name(t));
      put(b, "\"");
    }
    put(b, "}}");
    m_json.done_event();
  }

  TimelineJson& m_json;
  Unit& m_unit;
  const StepPlan& m_plan;
  ChipBuffers& m_buffers;
  uint32_t m_pid;
  uint32_t m_tid;
  uint32_t m_lane_tid;
  std::string m_name;
  std::vector<std::string> m_tiers;
  std::vector<Lane> m_lanes;
  uint64_t m_op_begin = 0;
  uint64_t m_busy_begin = 0;
  uint64_t m_step = 0;
};

/// A memory's or link direction's track: its busy periods (touching ones merged) and its
/// bandwidth counter.
class ActivityTrack final : public ActivityTimeline {
 public:
  ActivityTrack(TimelineJson& json, uint32_t pid, uint32_t tid, const std::string& name, bool link)
      : m_json(json),
        m_pid(pid),
        m_tid(tid),
        m_link(link),
        m_counter(
            json, pid, name + " bandwidth (GB/s)",
            link ? std::vector<std::string>{"GB/s"} : std::vector<std::string>{"read", "write"}) {
    json.metadata("thread_name", pid, tid, json_quoted(name), true);
    json.metadata("thread_sort_index", pid, tid, std::to_string(tid), true);
  }
  void busy(uint64_t begin, uint64_t end) override {
    if (end <= begin) return;
    if (m_has_busy && begin == m_end) {
      m_end = end;
      return;
    }
    flush_busy();
    m_has_busy = true;
    m_begin = begin;
    m_end = end;
  }
  void bandwidth(uint64_t t, double read, double write) override {
    const double v[2] = {read * 1e-9, write * 1e-9};
    if (m_link) {
      const double total = v[0] + v[1];
      m_counter.set(t, &total);
    } else {
      m_counter.set(t, v);
    }
  }
  void flush() {
    flush_busy();
    m_counter.flush();
  }

 private:
  void flush_busy() {
    if (m_has_busy) write_slice(m_json, m_pid, m_tid, m_begin, m_end, "busy");
    m_has_busy = false;
  }
  TimelineJson& m_json;
  uint32_t m_pid;
  uint32_t m_tid;
  bool m_link;
  CounterTrack m_counter;
  bool m_has_busy = false;
  uint64_t m_begin = 0;
  uint64_t m_end = 0;
};

void parse_timeline_steps(const std::string& text, TimelineOptions& o) {
  const std::string what = fmt::format(
      "--timeline-steps expects A:B (steps A to B-1, counted from 0; A: or :B leave one end "
      "open), got '{}'",
      text);
  const size_t colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) {
    throw InputError(what);
  }
  auto number = [&](const std::string& s, uint64_t& out) {
    if (s.empty()) return false;
    if (s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      throw InputError(what);
    }
    out = std::stoull(s);
    return true;
  };
  uint64_t a = 0;
  uint64_t b = 0;
  const bool has_a = number(text.substr(0, colon), a);
  const bool has_b = number(text.substr(colon + 1), b);
  if (!has_a && !has_b) throw InputError(what);
  if (has_b && b <= a) {
    throw InputError(
        fmt::format("--timeline-steps {}: the window is empty (B must be greater than A)", text));
  }
  o.first = a;
  o.end = has_b ? b : 0;
  o.default_window = false;
}

Timeline::Timeline(TimelineOptions options, System& system, const RunSpec& spec)
    : m_opt(std::move(options)), m_system(system) {
  m_json = std::make_unique<TimelineJson>(m_opt.path);
  std::vector<std::string> tiers;
  for (const auto& t : spec.chip.tiers) tiers.push_back(t.first);
  const uint32_t chips = system.chips();
  // Process 0 is the system (steps, links); chip c is process c + 1.
  m_json->metadata("process_name", 0, 0, "\"system\"", false);
  m_json->metadata("process_sort_index", 0, 0, "0", false);
  m_json->metadata("thread_name", 0, 1, "\"steps\"", true);
  m_json->metadata("thread_sort_index", 0, 1, "1", true);
  for (ChipId c = 0; c < chips; ++c) {
    const uint32_t pid = c + 1;
    ChipSlot& slot = system.slot(c);
    Chip& chip = *slot.chip;
    m_json->metadata("process_name", pid, 0, json_quoted(fmt::format("chip{}", c)), false);
    m_json->metadata("process_sort_index", pid, 0, std::to_string(pid), false);
    const StepPlan& plan = *system.plans()[c];
    m_buffers.push_back(std::make_unique<ChipBuffers>(*m_json, pid, plan));
    ChipBuffers& buf = *m_buffers.back();
    // tids: 1 compute, 2 vector, 3 comm, 4 dma, then the memories, then the DMA channels.
    const uint32_t mem_tid = 5;
    const uint32_t lane_tid = mem_tid + 1 + static_cast<uint32_t>(tiers.size());
    m_units.push_back(
        std::make_unique<UnitTrack>(*m_json, chip.compute(), plan, buf, pid, 1, 0, tiers));
    m_units.push_back(
        std::make_unique<UnitTrack>(*m_json, chip.vector(), plan, buf, pid, 2, 0, tiers));
    if (slot.comm) {
      m_units.push_back(std::make_unique<UnitTrack>(*m_json, *slot.comm, plan, buf, pid, 3,
                                                    lane_tid + chip.dma().slots(), tiers));
    }
    m_units.push_back(
        std::make_unique<UnitTrack>(*m_json, chip.dma(), plan, buf, pid, 4, lane_tid, tiers));
    // The optional units (Edge-MoE's attention and activation units), past every lane.
    if (AttentionUnit* u = chip.attention_unit())
      m_units.push_back(std::make_unique<UnitTrack>(*m_json, *u, plan, buf, pid, 1000, 0, tiers));
    if (ActivationUnit* u = chip.activation_unit())
      m_units.push_back(std::make_unique<UnitTrack>(*m_json, *u, plan, buf, pid, 1001, 0, tiers));
    std::vector<Memory*> mems{&chip.sram()};
    for (const auto& t : tiers) mems.push_back(&chip.tier(t));
    for (size_t i = 0; i < mems.size(); ++i) {
      m_activity.push_back(
          std::make_unique<ActivityTrack>(*m_json, pid, mem_tid + static_cast<uint32_t>(i),
                                          local_name(mems[i]->stats().full_name()), false));
      m_memories.emplace_back(m_activity.back().get(), mems[i]);
    }
  }
  if (const Network* net = system.network()) {
    const auto& links = net->topology().links();
    for (uint32_t i = 0; i < links.size(); ++i) {
      m_activity.push_back(std::make_unique<ActivityTrack>(*m_json, 0, 2 + i, links[i].name, true));
      m_links.push_back(m_activity.back().get());
    }
  }
}

Timeline::~Timeline() {
  // Models must not keep pointers to the tracks (a run that failed mid-step).
  attach(false);
}

void Timeline::attach(bool on) {
  if (on == m_attached) return;
  m_attached = on;
  for (auto& u : m_units) u->unit().set_timeline(on ? u.get() : nullptr);
  for (auto& [track, mem] : m_memories) mem->set_timeline(on ? track : nullptr);
  Network* net = const_cast<Network*>(m_system.network());
  for (uint32_t i = 0; i < m_links.size(); ++i) net->set_timeline(i, on ? m_links[i] : nullptr);
}

void Timeline::step_begin(uint64_t n) {
  if (m_closed) {
    m_capped = m_capped || m_opt.default_window;
    return;
  }
  if (n < m_opt.first) return;
  attach(true);
  m_step_begin_ps = now_ps();
  for (auto& u : m_units) u->set_step(n);
  for (auto& b : m_buffers) b->step_begin();
}

void Timeline::step_end(uint64_t n) {
  if (!m_attached) return;
  const uint64_t end = now_ps();
  Buffer& b = m_json->event();
  fmt::format_to(fmt::appender(b), "{{\"ph\":\"X\",\"pid\":0,\"tid\":1,\"ts\":");
  append_us(b, m_step_begin_ps);
  put(b, ",\"dur\":");
  append_us(b, end - m_step_begin_ps);
  fmt::format_to(fmt::appender(b), ",\"name\":\"step {}\",\"args\":{{\"step\":{}}}}}", n, n);
  m_json->done_event();
  ++m_recorded;
  if (m_opt.end != 0 && n + 1 >= m_opt.end) {
    // Inside the simulation nothing may throw: a write error is reported by commit().
    try {
      close_file();
    } catch (...) {
      m_error = std::current_exception();
    }
  }
}

void Timeline::close_file() {
  if (m_closed) return;
  // Between steps every unit, memory and link is idle: nothing is cut in half.
  attach(false);
  for (auto& a : m_activity) a->flush();
  for (auto& b : m_buffers) b->flush();
  m_closed = true;
  m_json->close(
      fmt::format("{{\"generator\":\"moesim {}\",\"steps_first\":{},\"steps_recorded\":{},"
                  "\"time_unit\":\"us (simulated)\"}}",
                  MOESIM_VERSION, m_opt.first, m_recorded));
}

void Timeline::commit(uint64_t steps_run) {
  if (m_error) std::rethrow_exception(m_error);
  close_file();
  m_json->rename();
  m_committed = true;
  if (m_capped) {
    std::fprintf(stderr,
                 "moesim: timeline: recorded steps 0 to %llu of %llu (the default cap of %llu "
                 "steps); --timeline-steps A:B records others (%s)\n",
                 static_cast<unsigned long long>(m_opt.end - 1),
                 static_cast<unsigned long long>(steps_run),
                 static_cast<unsigned long long>(kTimelineDefaultSteps), m_opt.path.c_str());
  } else if (m_recorded == 0) {
    std::fprintf(stderr,
                 "moesim: timeline: the run has %llu steps, none of them from step %llu on: %s "
                 "holds no step\n",
                 static_cast<unsigned long long>(steps_run),
                 static_cast<unsigned long long>(m_opt.first), m_opt.path.c_str());
  }
}

}  // namespace moesim
