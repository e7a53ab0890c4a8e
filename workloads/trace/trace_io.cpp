#include "workloads/trace/trace_io.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/output_path.hpp"

namespace moesim::trace_io {

namespace {

constexpr std::array<const char*, 4> kSpecialNames = {"null", "zero", "copy", "const"};

template <typename T>
bool parse_int(std::string_view text, T& value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

/// Slice-by-8 tables: table[0] is the classic byte table, table[j] advances j more zero bytes.
struct CrcTables {
  uint32_t t[8][256];
  constexpr CrcTables() : t{} {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int j = 1; j < 8; ++j) t[j][i] = (t[j - 1][i] >> 8) ^ t[0][t[j - 1][i] & 0xFF];
    }
  }
};
constexpr CrcTables kCrc;

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != s.npos;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

/// Values are stored trimmed (the text reader trims them), so blanks at either end are lost.
std::string check_value(std::string_view key, std::string_view value) {
  if (has_line_break(value)) return fmt::format("metadata '{}' contains a line break", key);
  if (!value.empty() && (is_blank(value.front()) || is_blank(value.back()))) {
    return fmt::format("metadata '{}' begins or ends with a blank", key);
  }
  return {};
}

}  // namespace

const char* special_expert_name(int32_t expert) {
  if (expert <= kNullExpert && expert >= kConstantExpert) return kSpecialNames[-expert - 1];
  return nullptr;
}

bool parse_special_expert(std::string_view text, int32_t& expert) {
  for (size_t i = 0; i < kSpecialNames.size(); ++i) {
    if (text == kSpecialNames[i]) {
      expert = -static_cast<int32_t>(i) - 1;
      return true;
    }
  }
  return false;
}

bool parse_u64(std::string_view text, uint64_t& value) {
  return parse_int(text, value);
}
bool parse_u32(std::string_view text, uint32_t& value) {
  return parse_int(text, value);
}
bool parse_i32(std::string_view text, int32_t& value) {
  return parse_int(text, value);
}

bool is_reserved_meta_key(std::string_view key) {
  return key == "model" || key == "layers" || key == "experts" || key == "top_k" ||
         key == "source" || key == "tasks";
}

std::string too_many_layers(uint32_t layers) {
  return fmt::format("metadata 'layers' = {} is too large (at most {}, the most a model has)",
                     layers, kMaxTraceLayers);
}

std::string check_meta(const TraceMeta& meta) {
  if (meta.layers == 0) return "metadata 'layers' must be at least 1";
  if (meta.layers > kMaxTraceLayers) return too_many_layers(meta.layers);
  if (meta.experts == 0) return "metadata 'experts' must be at least 1";
  if (meta.tasks == 0) return "metadata 'tasks' must be at least 1";
  if (meta.experts > static_cast<uint32_t>(INT32_MAX)) {
    return fmt::format("metadata 'experts' = {} is too large (at most {})", meta.experts,
                       INT32_MAX);
  }
  if (std::string bad = check_value("model", meta.model); !bad.empty()) return bad;
  if (std::string bad = check_value("source", meta.source); !bad.empty()) return bad;
  for (const auto& [key, value] : meta.extra) {
    if (key.empty()) return "metadata key is empty";
    if (is_reserved_meta_key(key)) {
      return fmt::format("metadata key '{}' is reserved and cannot be an extra key", key);
    }
    if (has_line_break(key) || key.find('=') != key.npos || is_blank(key.front()) ||
        is_blank(key.back())) {
      return fmt::format(
          "metadata key '{}' is not valid (no '=', line breaks or surrounding blanks)", key);
    }
    if (std::string bad = check_value(key, value); !bad.empty()) return bad;
  }
  return {};
}

void require_meta(const std::string& path, const TraceMeta& meta) {
  const std::string bad = check_meta(meta);
  if (!bad.empty()) throw InputError(fmt::format("{}: cannot write trace: {}", path, bad));
}

void require_step(const std::string& path, const TraceMeta& meta, const TraceStep& step,
                  bool has_prev, uint64_t prev_index) {
  const std::string bad = check_step(meta, step, has_prev, prev_index);
  if (!bad.empty()) {
    throw InputError(fmt::format("{}: cannot write step {}: {}", path, step.index, bad));
  }
}

std::string check_step(const TraceMeta& meta, const TraceStep& step, bool has_prev,
                       uint64_t prev_index) {
  if (has_prev && step.index <= prev_index) {
    return fmt::format("step {} after step {} (steps must ascend)", step.index, prev_index);
  }
  if (step.layers != meta.layers) {
    return fmt::format("step has {} layers but the trace has {}", step.layers, meta.layers);
  }
  const size_t tokens = step.tokens.size();
  if (tokens == 0) return "step has no tokens";
  if (tokens > UINT32_MAX) return "step has too many tokens";
  const size_t slots = static_cast<size_t>(step.layers) * tokens;
  if (step.offsets.size() != slots + 1) {
    return fmt::format("offsets has {} entries, expected layers * tokens + 1 = {}",
                       step.offsets.size(), slots + 1);
  }
  if (step.offsets[0] != 0) return "offsets[0] is not 0";
  for (size_t i = 0; i < slots; ++i) {
    if (step.offsets[i + 1] < step.offsets[i]) return "offsets are not ascending";
  }
  if (step.offsets.back() != step.experts.size() || step.weights.size() != step.experts.size()) {
    return fmt::format("offsets end at {} but there are {} experts and {} weights",
                       step.offsets.back(), step.experts.size(), step.weights.size());
  }
  for (int32_t e : step.experts) {
    if (!expert_valid(e, meta.experts)) {
      return fmt::format("expert {} out of range (experts = {})", e, meta.experts);
    }
  }
  for (float w : step.weights) {
    if (!std::isfinite(w)) return fmt::format("weight {} is not a finite number", w);
    if (w < 0) return fmt::format("weight {} is negative", w);
  }
  for (const TraceToken& t : step.tokens) {
    if (t.task >= meta.tasks) {
      return fmt::format("token (request {}, position {}): task {} out of range (tasks = {})",
                         t.request, t.position, t.task, meta.tasks);
    }
  }
  std::vector<uint64_t> keys(tokens);
  for (size_t t = 0; t < tokens; ++t) {
    keys[t] = (static_cast<uint64_t>(step.tokens[t].request) << 32) | step.tokens[t].position;
  }
  std::sort(keys.begin(), keys.end());
  auto dup = std::adjacent_find(keys.begin(), keys.end());
  if (dup != keys.end()) {
    return fmt::format("token (request {}, position {}) appears twice", *dup >> 32,
                       *dup & 0xFFFFFFFFu);
  }
  return {};
}

uint32_t crc32(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (size >= 8) {
    // Byte-wise assembly keeps this independent of host byte order.
    const uint32_t lo =
        c ^ (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    const uint32_t hi =
        uint32_t(p[4]) | uint32_t(p[5]) << 8 | uint32_t(p[6]) << 16 | uint32_t(p[7]) << 24;
    c = kCrc.t[7][lo & 0xFF] ^ kCrc.t[6][(lo >> 8) & 0xFF] ^ kCrc.t[5][(lo >> 16) & 0xFF] ^
        kCrc.t[4][lo >> 24] ^ kCrc.t[3][hi & 0xFF] ^ kCrc.t[2][(hi >> 8) & 0xFF] ^
        kCrc.t[1][(hi >> 16) & 0xFF] ^ kCrc.t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size--) c = kCrc.t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

AtomicOutput::AtomicOutput(const std::string& path)
    : m_path(path), m_in_place(write_in_place(path)), m_tmp(m_in_place ? path : path + ".tmp") {
  m_file = std::fopen(m_tmp.c_str(), "wb");
  if (!m_file) {
    throw InputError(
        fmt::format("{}: cannot create '{}' ({})", m_path, m_tmp, std::strerror(errno)));
  }
  std::setvbuf(m_file, nullptr, _IOFBF, 1 << 20);
}

AtomicOutput::~AtomicOutput() {
  if (m_file) std::fclose(m_file);
  if (!m_committed && !m_in_place) std::remove(m_tmp.c_str());
}

void AtomicOutput::fail(const char* what) {
  const int err = errno;
  if (m_file) std::fclose(m_file);
  m_file = nullptr;
  if (!m_in_place) std::remove(m_tmp.c_str());
  throw InputError(fmt::format("{}: {} ({})", m_path, what, std::strerror(err)));
}

void AtomicOutput::write(const void* data, size_t size) {
  if (!m_file) throw InternalError(fmt::format("{}: write after the trace was finished", m_path));
  if (size && std::fwrite(data, 1, size, m_file) != size) fail("write failed");
}

void AtomicOutput::commit() {
  if (!m_file) throw InternalError(fmt::format("{}: trace finished twice", m_path));
  if (std::fflush(m_file) != 0) fail("write failed");
  const int rc = std::fclose(m_file);
  m_file = nullptr;
  if (rc != 0) fail("write failed");
  if (!m_in_place && std::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    fail("cannot rename the temporary file");
  }
  m_committed = true;
}

TextTraceWriter::TextTraceWriter(const std::string& path, const TraceMeta& meta) : m_meta(meta) {
  require_meta(path, meta);
  m_out.emplace(path);
}

void TextTraceWriter::write(const TraceStep& step) {
  if (m_out->committed()) throw InternalError(m_out->path() + ": write after finish()");
  require_step(m_out->path(), m_meta, step, m_has_prev, m_prev_index);
  m_has_prev = true;
  m_prev_index = step.index;
  const uint32_t tokens = step.num_tokens();
  for (uint32_t l = 0; l < step.layers; ++l) {
    for (uint32_t t = 0; t < tokens; ++t) append_row(step, l, t);
    if (m_buf.size() >= (1u << 20)) flush();
  }
}

void TextTraceWriter::finish() {
  flush();
  m_out->commit();
}

void TextTraceWriter::append_experts(const TraceStep& step, uint32_t b, uint32_t e, char sep,
                                     bool quote_names) {
  for (uint32_t i = b; i < e; ++i) {
    if (i > b) m_buf.push_back(sep);
    if (const char* name = special_expert_name(step.experts[i])) {
      if (quote_names) m_buf.push_back('"');
      m_buf.append(name, name + std::strlen(name));
      if (quote_names) m_buf.push_back('"');
    } else {
      fmt::format_to(std::back_inserter(m_buf), "{}", step.experts[i]);
    }
  }
}

void TextTraceWriter::append_weights(const TraceStep& step, uint32_t b, uint32_t e, char sep) {
  for (uint32_t i = b; i < e; ++i) {
    if (i > b) m_buf.push_back(sep);
    fmt::format_to(std::back_inserter(m_buf), "{}", step.weights[i]);
  }
}

void TextTraceWriter::flush() {
  m_out->write(m_buf.data(), m_buf.size());
  m_buf.clear();
}

FilePtr open_input(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(fmt::format("{}: cannot open trace ({})", path, std::strerror(errno)));
  FilePtr file(f);
  struct stat st;
  if (::fstat(::fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw InputError(fmt::format("{}: cannot open trace ({})", path, std::strerror(EISDIR)));
  }
  return file;
}

}  // namespace moesim::trace_io
