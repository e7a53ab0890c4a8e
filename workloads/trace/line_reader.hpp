#pragma once
/// Reads a text file line by line through one large buffer (shared by the text readers).

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "workloads/trace/trace_io.hpp"

namespace moesim::trace_io {

/// Reads lines from a FILE* through one large buffer; lines are views valid until the next call.
/// The buffer starts at 64 KiB and doubles, up to 1 MiB, each time a read fills it (a long file),
/// and beyond that only when one line fills it: small files (the fuzz targets open one per
/// input, the importers several) do not pay for a 1 MiB allocation.
class LineReader {
 public:
  explicit LineReader(trace_io::FilePtr file) : m_file(std::move(file)), m_buf(kInitialSize) {}

  /// Next line without its line break; false at the end of the file.
  bool next(std::string_view& line) {
    for (;;) {
      const char* begin = m_buf.data() + m_pos;
      const void* nl = std::memchr(begin, '\n', m_end - m_pos);
      if (nl) {
        const char* e = static_cast<const char*>(nl);
        m_pos = static_cast<size_t>(e - m_buf.data()) + 1;
        return finish(line, begin, e);
      }
      if (m_eof) {
        if (m_pos == m_end) return false;
        const char* e = m_buf.data() + m_end;
        m_pos = m_end;
        return finish(line, begin, e);
      }
      refill();
    }
  }
  /// Number of the last line returned (1-based).
  uint64_t line_number() const { return m_line; }

 private:
  bool finish(std::string_view& line, const char* b, const char* e) {
    if (e > b && e[-1] == '\r') --e;
    line = std::string_view(b, static_cast<size_t>(e - b));
    ++m_line;
    return true;
  }
  static constexpr size_t kInitialSize = size_t{1} << 16;
  static constexpr size_t kStreamSize = size_t{1} << 20;

  void refill() {
    // Keep the partial line, moved to the front; grow when one line fills the buffer, or
    // while the file keeps filling it (up to kStreamSize).
    const size_t keep = m_end - m_pos;
    if (m_pos > 0) std::memmove(m_buf.data(), m_buf.data() + m_pos, keep);
    m_pos = 0;
    m_end = keep;
    if (m_end == m_buf.size() || (m_filled && m_buf.size() < kStreamSize)) {
      m_buf.resize(m_buf.size() * 2);
    }
    const size_t want = m_buf.size() - m_end;
    const size_t got = std::fread(m_buf.data() + m_end, 1, want, m_file.get());
    m_end += got;
    m_filled = got == want;
    if (got == 0) m_eof = true;
  }

  trace_io::FilePtr m_file;
  std::vector<char> m_buf;
  size_t m_pos = 0;
  size_t m_end = 0;
  bool m_eof = false;
  bool m_filled = false;  // the last read filled the buffer
  uint64_t m_line = 0;
};

}  // namespace moesim::trace_io
