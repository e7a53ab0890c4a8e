// The binary form of the routing trace (see FORMAT.md): a checksummed header, then one
// checksummed record per step in struct-of-arrays layout, then an end record. All values are
// little-endian. The reader streams one record at a time.

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

constexpr char kMagic[8] = {'M', 'O', 'E', 'T', 'R', 'A', 'C', 'E'};
constexpr uint32_t kStepTag = 0x50455453;  // "STEP" as little-endian bytes
constexpr uint32_t kEndTag = 0x20444E45;   // "END " as little-endian bytes
constexpr uint32_t kWideCounts = 1;        // per-route counts are u32 (else u8)
constexpr uint32_t kWideExperts = 2;       // expert ids are i32 (else i16)
constexpr size_t kStepFixed = 24;          // u64 index, u32 tokens, layers, flags, assignments
/// Version 2 (written for multi-task traces, tasks > 1) adds `u32 tasks` after top_k in the
/// metadata block and a `u32 task` after each token's (request, position); single-task traces
/// are written as version 1, byte for byte as before.
constexpr uint32_t kTaskVersion = 2;
constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

template <typename T>
T byte_swap(T v) {
  T out;
  auto* s = reinterpret_cast<const unsigned char*>(&v);
  auto* d = reinterpret_cast<unsigned char*>(&out);
  for (size_t i = 0; i < sizeof(T); ++i) d[i] = s[sizeof(T) - 1 - i];
  return out;
}

template <typename T>
void put(std::vector<uint8_t>& b, T v) {
  if constexpr (!kLittleEndian) v = byte_swap(v);
  const size_t at = b.size();
  b.resize(at + sizeof(T));
  std::memcpy(b.data() + at, &v, sizeof(T));
}

template <typename T>
void put_array(std::vector<uint8_t>& b, const T* p, size_t n) {
  const size_t at = b.size();
  b.resize(at + n * sizeof(T));
  if constexpr (kLittleEndian) {
    if (n) std::memcpy(b.data() + at, p, n * sizeof(T));
  } else {
    for (size_t i = 0; i < n; ++i) {
      const T v = byte_swap(p[i]);
      std::memcpy(b.data() + at + i * sizeof(T), &v, sizeof(T));
    }
  }
}

void put_string(std::vector<uint8_t>& b, const std::string& s) {
  put<uint32_t>(b, static_cast<uint32_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (!kLittleEndian) v = byte_swap(v);
  return v;
}

template <typename T>
void get_array(const uint8_t* p, size_t n, T* out) {
  if (n) std::memcpy(out, p, n * sizeof(T));
  if constexpr (!kLittleEndian) {
    for (size_t i = 0; i < n; ++i) out[i] = byte_swap(out[i]);
  }
}

class BinaryTraceWriter final : public TraceWriter {
 public:
  BinaryTraceWriter(const std::string& path, const TraceMeta& meta)
      : m_meta(meta), m_tasks(meta.tasks > 1) {
    trace_io::require_meta(path, meta);
    m_narrow_experts = meta.experts <= 32768;
    m_out.emplace(path);

    std::vector<uint8_t> block;
    put_string(block, meta.model);
    put<uint32_t>(block, meta.layers);
    put<uint32_t>(block, meta.experts);
    put<uint32_t>(block, meta.top_k);
    if (m_tasks) put<uint32_t>(block, meta.tasks);
    put_string(block, meta.source);
    put<uint32_t>(block, static_cast<uint32_t>(meta.extra.size()));
    for (const auto& [key, value] : meta.extra) {
      put_string(block, key);
      put_string(block, value);
    }
    std::vector<uint8_t> h(kMagic, kMagic + 8);
    put<uint32_t>(h, m_tasks ? kTaskVersion : kTraceFormatVersion);
    put<uint32_t>(h, static_cast<uint32_t>(block.size()));
    h.insert(h.end(), block.begin(), block.end());
    put<uint32_t>(h, trace_io::crc32(0, h.data() + 8, h.size() - 8));
    m_out->write(h.data(), h.size());
  }

  void write(const TraceStep& step) override {
    trace_io::require_step(m_out->path(), m_meta, step, m_steps > 0, m_prev_index);
    const uint32_t tokens = step.num_tokens();
    const size_t slots = static_cast<size_t>(step.layers) * tokens;
    const size_t a = step.experts.size();
    uint32_t max_k = 0;
    for (size_t i = 0; i < slots; ++i) {
      max_k = std::max(max_k, step.offsets[i + 1] - step.offsets[i]);
    }
    uint32_t flags = 0;
    if (max_k > 255) flags |= kWideCounts;
    if (!m_narrow_experts) flags |= kWideExperts;
    const uint64_t payload = kStepFixed + (m_tasks ? 12ull : 8ull) * tokens +
                             slots * (flags & kWideCounts ? 4 : 1) +
                             a * (flags & kWideExperts ? 4 : 2) + 4ull * a;
    if (payload > std::numeric_limits<uint32_t>::max()) {
      throw InputError(
          fmt::format("{}: cannot write step {}: {} bytes exceed the binary form's "
                      "4 GiB record limit",
                      m_out->path(), step.index, payload));
    }

    std::vector<uint8_t>& b = m_rec;
    b.clear();
    b.reserve(payload + 12);
    put<uint32_t>(b, kStepTag);
    put<uint32_t>(b, static_cast<uint32_t>(payload));
    put<uint64_t>(b, step.index);
    put<uint32_t>(b, tokens);
    put<uint32_t>(b, step.layers);
    put<uint32_t>(b, flags);
    put<uint32_t>(b, static_cast<uint32_t>(a));
    for (const TraceToken& t : step.tokens) {
      put<uint32_t>(b, t.request);
      put<uint32_t>(b, t.position);
      if (m_tasks) put<uint32_t>(b, t.task);
    }
    if (flags & kWideCounts) {
      for (size_t i = 0; i < slots; ++i) put<uint32_t>(b, step.offsets[i + 1] - step.offsets[i]);
    } else {
      const size_t at = b.size();
      b.resize(at + slots);
      for (size_t i = 0; i < slots; ++i) {
        b[at + i] = static_cast<uint8_t>(step.offsets[i + 1] - step.offsets[i]);
      }
    }
    if (flags & kWideExperts) {
      put_array(b, step.experts.data(), a);
    } else {
      m_narrow.resize(a);
      for (size_t i = 0; i < a; ++i) m_narrow[i] = static_cast<int16_t>(step.experts[i]);
      put_array(b, m_narrow.data(), a);
    }
    put_array(b, step.weights.data(), a);
    put<uint32_t>(b, trace_io::crc32(0, b.data(), b.size()));
    m_out->write(b.data(), b.size());
    m_prev_index = step.index;
    ++m_steps;
    m_assignments += a;
  }

  void finish() override {
    std::vector<uint8_t> b;
    put<uint32_t>(b, kEndTag);
    put<uint32_t>(b, 16);
    put<uint64_t>(b, m_steps);
    put<uint64_t>(b, m_assignments);
    put<uint32_t>(b, trace_io::crc32(0, b.data(), b.size()));
    m_out->write(b.data(), b.size());
    m_out->commit();
  }

 private:
  TraceMeta m_meta;
  bool m_tasks = false;  // version 2: tokens carry their task
  std::optional<trace_io::AtomicOutput> m_out;
  bool m_narrow_experts = true;
  std::vector<uint8_t> m_rec;
  std::vector<int16_t> m_narrow;
  uint64_t m_prev_index = 0;
  uint64_t m_steps = 0;
  uint64_t m_assignments = 0;
};

class BinaryTraceReader final : public TraceReader {
 public:
  explicit BinaryTraceReader(const std::string& path)
      : m_path(path), m_owner(trace_io::open_input(path)), m_file(m_owner.get()) {
    std::setvbuf(m_file, nullptr, _IOFBF, 1 << 22);
    struct stat st;
    if (::fstat(fileno(m_file), &st) == 0 && S_ISREG(st.st_mode)) {
      m_size = static_cast<uint64_t>(st.st_size);
    }
    read_header();
  }

  const TraceMeta& meta() const override { return m_meta; }

  bool next(TraceStep& step) override {
    if (m_done) return false;
    uint8_t head[8];
    if (read(head, 8) != 8) fail("truncated: no end record");
    const uint32_t tag = get<uint32_t>(head);
    const uint32_t size = get<uint32_t>(head + 4);
    if (tag != kStepTag && tag != kEndTag) {
      fail(fmt::format("record {}: unknown record tag 0x{:08x}", m_records, tag));
    }
    if (uint64_t(size) + 4 > remaining()) fail("truncated: no end record");
    m_buf.resize(size_t(size) + 12);
    std::memcpy(m_buf.data(), head, 8);
    if (read(m_buf.data() + 8, size_t(size) + 4) != size_t(size) + 4) {
      fail("truncated: no end record");
    }
    const uint8_t* payload = m_buf.data() + 8;
    const uint32_t stored = get<uint32_t>(payload + size);
    const bool crc_ok = trace_io::crc32(0, m_buf.data(), size_t(size) + 8) == stored;

    if (tag == kEndTag) {
      if (!crc_ok) fail(fmt::format("record {} (end): checksum mismatch", m_records));
      if (size != 16) fail(fmt::format("record {} (end): size {} is not 16", m_records, size));
      const uint64_t steps = get<uint64_t>(payload);
      const uint64_t assignments = get<uint64_t>(payload + 8);
      if (steps != m_records || assignments != m_assignments) {
        fail(
            fmt::format("end record counts {} steps and {} assignments, but the file holds {} "
                        "steps and {} assignments",
                        steps, assignments, m_records, m_assignments));
      }
      if (std::fgetc(m_file) != EOF) fail("data after the end record");
      m_done = true;
      return false;
    }

    const uint64_t index = size >= 8 ? get<uint64_t>(payload) : 0;
    if (!crc_ok) fail(fmt::format("record {} (step {}): checksum mismatch", m_records, index));
    decode(payload, size, index, step);
    m_has_prev = true;
    m_prev_index = index;
    ++m_records;
    m_assignments += step.experts.size();
    return true;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: {}", m_path, what));
  }
  [[noreturn]] void fail_record(uint64_t index, const std::string& what) const {
    fail(fmt::format("record {} (step {}): {}", m_records, index, what));
  }

  size_t read(void* dst, size_t n) {
    const size_t got = std::fread(dst, 1, n, m_file);
    m_pos += got;
    return got;
  }
  uint64_t remaining() const { return m_size > m_pos ? m_size - m_pos : 0; }

  void read_header() {
    uint8_t fixed[16];
    const size_t got = read(fixed, 16);
    if (got < 8 || std::memcmp(fixed, kMagic, 8) != 0) {
      if (got < 8 && std::memcmp(fixed, kMagic, got) == 0) fail("truncated: incomplete header");
      fail("bad magic (not a moesim binary trace)");
    }
    if (got < 12) fail("truncated: incomplete header");
    const uint32_t version = get<uint32_t>(fixed + 8);
    if (version != kTraceFormatVersion && version != kTaskVersion) {
      fail(fmt::format("unsupported version {} (this build reads versions {} and {})", version,
                       kTraceFormatVersion, kTaskVersion));
    }
    m_tasks = version == kTaskVersion;
    if (got < 16) fail("truncated: incomplete header");
    const uint32_t size = get<uint32_t>(fixed + 12);
    if (uint64_t(size) + 4 > remaining()) fail("truncated: incomplete header");
    std::vector<uint8_t> h(size_t(size) + 12);
    std::memcpy(h.data(), fixed + 8, 8);
    if (read(h.data() + 8, size_t(size) + 4) != size_t(size) + 4) {
      fail("truncated: incomplete header");
    }
    if (trace_io::crc32(0, h.data(), size_t(size) + 8) != get<uint32_t>(h.data() + 8 + size)) {
      fail("header: checksum mismatch");
    }
    const uint8_t* p = h.data() + 8;
    const uint8_t* end = p + size;
    auto u32 = [&]() {
      if (end - p < 4) fail("header: malformed metadata");
      const uint32_t v = get<uint32_t>(p);
      p += 4;
      return v;
    };
    auto str = [&]() {
      const uint32_t n = u32();
      if (uint64_t(end - p) < n) fail("header: malformed metadata");
      std::string s(reinterpret_cast<const char*>(p), n);
      p += n;
      return s;
    };
    m_meta.model = str();
    m_meta.layers = u32();
    m_meta.experts = u32();
    m_meta.top_k = u32();
    if (m_tasks) m_meta.tasks = u32();
    m_meta.source = str();
    const uint32_t extras = u32();
    for (uint32_t i = 0; i < extras; ++i) {
      std::string key = str();
      m_meta.extra[key] = str();
    }
    if (p != end) fail("header: malformed metadata");
    const std::string bad = trace_io::check_meta(m_meta);
    if (!bad.empty()) fail("header: " + bad);
  }

  void decode(const uint8_t* p, uint32_t size, uint64_t index, TraceStep& step) {
    if (size < kStepFixed) fail_record(index, "record too short");
    const uint32_t tokens = get<uint32_t>(p + 8);
    const uint32_t layers = get<uint32_t>(p + 12);
    const uint32_t flags = get<uint32_t>(p + 16);
    const uint32_t a = get<uint32_t>(p + 20);
    if (flags & ~(kWideCounts | kWideExperts)) {
      fail_record(index, fmt::format("unknown flags 0x{:x}", flags));
    }
    if (layers != m_meta.layers) {
      fail_record(index, fmt::format("{} layers but the header says {}", layers, m_meta.layers));
    }
    if (tokens == 0) fail_record(index, "step has no tokens");
    if (m_has_prev && index <= m_prev_index) {
      fail_record(index,
                  fmt::format("step {} after step {} (steps must ascend)", index, m_prev_index));
    }
    const size_t slots = size_t(layers) * tokens;
    if (slots > size) {  // every (layer, token) needs a count byte; also avoids overflow below
      fail_record(index, fmt::format("record size {} does not match its contents", size));
    }
    const size_t cw = flags & kWideCounts ? 4 : 1;
    const size_t ew = flags & kWideExperts ? 4 : 2;
    const uint64_t expected = kStepFixed + (m_tasks ? 12ull : 8ull) * tokens +
                              uint64_t(slots) * cw + uint64_t(a) * ew + 4ull * a;
    if (expected != size) {
      fail_record(index, fmt::format("record size {} does not match its contents ({} bytes)", size,
                                     expected));
    }
    step.clear();
    step.index = index;
    step.layers = layers;
    p += kStepFixed;

    step.tokens.resize(tokens);
    m_keys.resize(tokens);
    for (uint32_t t = 0; t < tokens; ++t) {
      step.tokens[t].request = get<uint32_t>(p);
      step.tokens[t].position = get<uint32_t>(p + 4);
      m_keys[t] = (uint64_t(step.tokens[t].request) << 32) | step.tokens[t].position;
      p += 8;
      if (m_tasks) {
        const uint32_t task = get<uint32_t>(p);
        p += 4;
        if (task >= m_meta.tasks) {
          fail_record(index, fmt::format("token (request {}, position {}): task {} out of range "
                                         "(tasks = {})",
                                         step.tokens[t].request, step.tokens[t].position, task,
                                         m_meta.tasks));
        }
        step.tokens[t].task = task;
      }
    }
    std::sort(m_keys.begin(), m_keys.end());
    const auto dup = std::adjacent_find(m_keys.begin(), m_keys.end());
    if (dup != m_keys.end()) {
      fail_record(index, fmt::format("token (request {}, position {}) appears twice", *dup >> 32,
                                     *dup & 0xFFFFFFFFu));
    }

    step.offsets.resize(slots + 1);
    uint32_t* off = step.offsets.data();
    uint64_t acc = 0;
    off[0] = 0;
    if (cw == 1) {
      for (size_t i = 0; i < slots; ++i) {
        acc += p[i];
        off[i + 1] = static_cast<uint32_t>(acc);
      }
    } else {
      for (size_t i = 0; i < slots; ++i) {
        acc += get<uint32_t>(p + 4 * i);
        off[i + 1] = static_cast<uint32_t>(acc);
      }
    }
    if (acc != a) {
      fail_record(index, fmt::format("route counts add up to {}, expected {}", acc, a));
    }
    p += slots * cw;

    step.experts.resize(a);
    int32_t* ex = step.experts.data();
    int32_t lo = 0;
    int32_t hi = 0;
    if (ew == 2) {
      int16_t tmp[256];
      for (size_t i = 0; i < a;) {
        const size_t n = std::min<size_t>(256, a - i);
        get_array(p + 2 * i, n, tmp);
        for (size_t j = 0; j < n; ++j) ex[i + j] = tmp[j];
        i += n;
      }
    } else {
      get_array(p, a, ex);
    }
    for (size_t i = 0; i < a; ++i) {
      lo = std::min(lo, ex[i]);
      hi = std::max(hi, ex[i]);
    }
    if (a && (lo < kConstantExpert || uint32_t(hi) >= m_meta.experts)) {
      for (size_t i = 0; i < a; ++i) {
        if (!trace_io::expert_valid(ex[i], m_meta.experts)) {
          fail_record(index,
                      fmt::format("expert {} out of range (experts = {})", ex[i], m_meta.experts));
        }
      }
    }
    p += size_t(a) * ew;

    step.weights.resize(a);
    float* w = step.weights.data();
    get_array(p, a, w);
    bool bad = false;
    for (size_t i = 0; i < a; ++i) bad |= !(w[i] >= 0.0f && w[i] <= 3.4028235e38f);
    if (bad) {
      for (size_t i = 0; i < a; ++i) {
        if (!std::isfinite(w[i])) {
          fail_record(index, fmt::format("weight {} is not finite", w[i]));
        }
        if (w[i] < 0) fail_record(index, fmt::format("weight {} is negative", w[i]));
      }
    }
  }

  std::string m_path;
  trace_io::FilePtr m_owner;
  std::FILE* m_file;
  uint64_t m_size = std::numeric_limits<uint64_t>::max();
  uint64_t m_pos = 0;
  TraceMeta m_meta;
  bool m_tasks = false;  // version 2: tokens carry their task
  std::vector<uint8_t> m_buf;
  std::vector<uint64_t> m_keys;
  uint64_t m_records = 0;
  uint64_t m_assignments = 0;
  bool m_has_prev = false;
  uint64_t m_prev_index = 0;
  bool m_done = false;
};

}  // namespace

std::unique_ptr<TraceReader> open_binary_trace(const std::string& path) {
  return std::make_unique<BinaryTraceReader>(path);
}

std::unique_ptr<TraceWriter> create_binary_trace_writer(const std::string& path,
                                                        const TraceMeta& meta) {
  return std::make_unique<BinaryTraceWriter>(path, meta);
}

}  // namespace moesim
