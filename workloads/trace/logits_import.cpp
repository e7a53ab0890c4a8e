// Router-logit import (FORMAT.md, "Router logits"): NumPy .npy headers and .npz (zip) members
// parsed here, each layer's array streamed row by row (stored members by seeking, deflated ones
// through zlib), and each (token, layer) routed by the options' policy.

#include "workloads/trace/logits_import.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

/// Bytes read in order from a file region: stored (plain) or raw deflate.
class ByteStream {
 public:
  ByteStream(const std::string& path, std::string what, uint64_t offset, uint64_t size,
             bool deflated)
      : m_path(path),
        m_what(std::move(what)),
        m_file(trace_io::open_input(path)),
        m_left(size),
        m_deflated(deflated) {
    if (std::fseek(m_file.get(), static_cast<long>(offset), SEEK_SET) != 0) fail("cannot seek");
    if (deflated) {
      std::memset(&m_z, 0, sizeof m_z);
      if (inflateInit2(&m_z, -MAX_WBITS) != Z_OK) fail("zlib init failed");
      m_in.resize(1 << 16);
    }
  }
  ~ByteStream() {
    if (m_deflated) inflateEnd(&m_z);
  }
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  /// Reads exactly n bytes or throws "truncated".
  void read(void* out, size_t n) {
    if (!m_deflated) {
      if (n > m_left || std::fread(out, 1, n, m_file.get()) != n) fail("truncated data");
      m_left -= n;
      return;
    }
    m_z.next_out = static_cast<Bytef*>(out);
    m_z.avail_out = static_cast<uInt>(n);
    while (m_z.avail_out > 0) {
      if (m_z.avail_in == 0) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(m_in.size(), m_left));
        const size_t got = want ? std::fread(m_in.data(), 1, want, m_file.get()) : 0;
        m_left -= got;
        m_z.next_in = m_in.data();
        m_z.avail_in = static_cast<uInt>(got);
      }
      const int rc = inflate(&m_z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END && m_z.avail_out > 0) fail("truncated data");
      if (rc != Z_OK && rc != Z_STREAM_END) fail("corrupt deflate data");
      if (rc == Z_OK && m_z.avail_in == 0 && m_left == 0 && m_z.avail_out > 0) {
        fail("truncated data");
      }
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: {}: {}", m_path, m_what, what));
  }

 private:
  std::string m_path, m_what;
  trace_io::FilePtr m_file;
  uint64_t m_left;
  bool m_deflated;
  z_stream m_z{};
  std::vector<Bytef> m_in;
};

/// A parsed .npy header.
struct NpyHeader {
  char kind = 'f';  ///< 'f' float, 'i' signed, 'u' unsigned
  uint32_t item = 4;
  std::vector<uint64_t> shape;
};

/// Parses the .npy header at the stream's start (magic, version, dict).
NpyHeader read_npy_header(ByteStream& s) {
  unsigned char pre[8];
  s.read(pre, 8);
  if (std::memcmp(pre, "\x93NUMPY", 6) != 0) s.fail("bad magic (not a NumPy .npy array)");
  if (pre[6] < 1 || pre[6] > 3) s.fail(fmt::format("unsupported .npy version {}", pre[6]));
  uint32_t len = 0;
  if (pre[6] == 1) {
    unsigned char b[2];
    s.read(b, 2);
    len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    s.read(b, 4);
    len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  if (len > (1u << 20)) s.fail("header too long");
  std::string h(len, '\0');
  s.read(h.data(), len);
  auto value_of = [&](const std::string& key) -> std::string {
    const size_t k = h.find("'" + key + "'");
    if (k == std::string::npos) s.fail(fmt::format("header: missing key '{}'", key));
    size_t v = h.find(':', k);
    if (v == std::string::npos) s.fail(fmt::format("header: key '{}' has no value", key));
    ++v;
    while (v < h.size() && h[v] == ' ') ++v;
    size_t e = v;
    if (h[v] == '(') {
      e = h.find(')', v);
      if (e == std::string::npos) s.fail("header: unclosed shape");
      return h.substr(v, e - v + 1);
    }
    if (h[v] == '\'') {
      e = h.find('\'', v + 1);
      if (e == std::string::npos) s.fail("header: unclosed string");
      return h.substr(v + 1, e - v - 1);
    }
    while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
    return h.substr(v, e - v);
  };
  NpyHeader out;
  const std::string descr = value_of("descr");
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|') ||
      (descr[1] != 'f' && descr[1] != 'i' && descr[1] != 'u')) {
    s.fail(
        fmt::format("header: key 'descr': unsupported dtype '{}' (expected little-endian "
                    "float16/float32, or integers for request/step)",
                    descr));
  }
  out.kind = descr[1];
  out.item = static_cast<uint32_t>(std::atoi(descr.c_str() + 2));
  const bool ok_item = out.kind == 'f'
                           ? (out.item == 2 || out.item == 4)
                           : (out.item == 1 || out.item == 2 || out.item == 4 || out.item == 8);
  if (!ok_item || (descr[0] == '|' && out.item != 1)) {
    s.fail(
        fmt::format("header: key 'descr': unsupported dtype '{}' (expected little-endian "
                    "float16/float32, or integers for request/step)",
                    descr));
  }
  if (value_of("fortran_order").find("False") == std::string::npos) {
    s.fail("header: key 'fortran_order': Fortran-order arrays are not supported");
  }
  const std::string shape = value_of("shape");
  for (size_t i = 1; i < shape.size();) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i >= shape.size() || shape[i] == ')') break;
    size_t e = i;
    while (e < shape.size() && std::isdigit(static_cast<unsigned char>(shape[e]))) ++e;
    if (e == i) s.fail(fmt::format("header: key 'shape': bad shape {}", shape));
    out.shape.push_back(std::stoull(shape.substr(i, e - i)));
    i = e;
  }
  return out;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(man), -24);
  } else if (exp == 31) {
    v = man ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

/// Where an array's bytes are: a file region, stored or deflated.
struct ArrayPlace {
  std::string what;  ///< "member 'layer_0'" or "array"
  uint64_t offset = 0;
  uint64_t size = 0;
  bool deflated = false;
};

uint32_t le16(const unsigned char* p) {
  return p[0] | (p[1] << 8);
}
uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t le64(const unsigned char* p) {
  return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32);
}

/// The members of a zip (.npz) from its central directory (zip64 sizes read).
std::map<std::string, ArrayPlace> zip_members(const std::string& path) {
  trace_io::FilePtr f = trace_io::open_input(path);
  auto bad = [&](const std::string& w) -> void {
    throw InputError(fmt::format("{}: not a readable .npz (zip): {}", path, w));
  };
  std::fseek(f.get(), 0, SEEK_END);
  const long end = std::ftell(f.get());
  const long tail_len = std::min<long>(end, 65557);
  std::vector<unsigned char> tail(static_cast<size_t>(tail_len));
  std::fseek(f.get(), end - tail_len, SEEK_SET);
  if (std::fread(tail.data(), 1, tail.size(), f.get()) != tail.size()) bad("cannot read");
  long eocd = -1;
  for (long i = tail_len - 22; i >= 0; --i) {
    if (le32(&tail[static_cast<size_t>(i)]) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad("no end of central directory");
  uint64_t entries = le16(&tail[eocd + 10]);
  uint64_t cd_size = le32(&tail[eocd + 12]);
  uint64_t cd_off = le32(&tail[eocd + 16]);
  if (cd_off == 0xFFFFFFFFu && eocd >= 20 && le32(&tail[eocd - 20]) == 0x07064b50) {
    const uint64_t z64 = le64(&tail[eocd - 20 + 8]);
    unsigned char r[56];
    std::fseek(f.get(), static_cast<long>(z64), SEEK_SET);
    if (std::fread(r, 1, 56, f.get()) != 56 || le32(r) != 0x06064b50) bad("bad zip64 record");
    entries = le64(r + 32);
    cd_size = le64(r + 40);
    cd_off = le64(r + 48);
  }
  std::vector<unsigned char> cd(static_cast<size_t>(cd_size));
  std::fseek(f.get(), static_cast<long>(cd_off), SEEK_SET);
  if (std::fread(cd.data(), 1, cd.size(), f.get()) != cd.size()) bad("truncated directory");
  std::map<std::string, ArrayPlace> out;
  size_t p = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (p + 46 > cd.size() || le32(&cd[p]) != 0x02014b50) bad("bad directory entry");
    const uint32_t method = le16(&cd[p + 10]);
    uint64_t csize = le32(&cd[p + 20]), usize = le32(&cd[p + 24]);
    const uint32_t nlen = le16(&cd[p + 28]), xlen = le16(&cd[p + 30]), clen = le16(&cd[p + 32]);
    uint64_t local = le32(&cd[p + 42]);
    std::string name(reinterpret_cast<const char*>(&cd[p + 46]), nlen);
    // zip64 extra: the 0xFFFFFFFF fields in order usize, csize, offset.
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const uint32_t id = le16(&cd[x]), len = le16(&cd[x + 2]);
      if (id == 1) {
        size_t q = x + 4;
        if (usize == 0xFFFFFFFFu) usize = le64(&cd[q]), q += 8;
        if (csize == 0xFFFFFFFFu) csize = le64(&cd[q]), q += 8;
        if (local == 0xFFFFFFFFu) local = le64(&cd[q]);
      }
      x += 4 + len;
    }
    p += 46 + nlen + xlen + clen;
    if (method != 0 && method != 8) {
      bad(fmt::format("member '{}' uses compression method {} (stored or deflate expected)", name,
                      method));
    }
    unsigned char lh[30];
    std::fseek(f.get(), static_cast<long>(local), SEEK_SET);
    if (std::fread(lh, 1, 30, f.get()) != 30 || le32(lh) != 0x04034b50) bad("bad local header");
    ArrayPlace a;
    a.offset = local + 30 + le16(lh + 26) + le16(lh + 28);
    a.size = method == 0 ? usize : csize;
    a.deflated = method == 8;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
      name.resize(name.size() - 4);
    }
    a.what = "member '" + name + "'";
    out[name] = a;
  }
  return out;
}

/// An array read row by row (values converted to double).
class ArrayRows {
 public:
  ArrayRows(const std::string& path, const ArrayPlace& place, uint64_t skip_bytes = 0)
      : m_stream(path, place.what, place.offset, place.size, place.deflated) {
    m_h = read_npy_header(m_stream);
    if (skip_bytes) skip(skip_bytes);
  }
  const NpyHeader& header() const { return m_h; }
  ByteStream& stream() { return m_stream; }
  void skip(uint64_t n) {
    std::vector<unsigned char> buf(1 << 16);
    while (n) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
      m_stream.read(buf.data(), k);
      n -= k;
    }
  }
  /// Reads n values.
  void read(double* out, size_t n) {
    m_buf.resize(n * m_h.item);
    m_stream.read(m_buf.data(), m_buf.size());
    const unsigned char* b = m_buf.data();
    for (size_t i = 0; i < n; ++i, b += m_h.item) {
      if (m_h.kind == 'f') {
        if (m_h.item == 2) {
          out[i] = half_to_float(static_cast<uint16_t>(le16(b)));
        } else {
          float f;
          std::memcpy(&f, b, 4);
          out[i] = f;
        }
      } else {
        uint64_t v = 0;
        for (uint32_t k = 0; k < m_h.item; ++k) v |= static_cast<uint64_t>(b[k]) << (8 * k);
        if (m_h.kind == 'i' && m_h.item < 8 && (v >> (8 * m_h.item - 1)) & 1) {
          v |= ~uint64_t{0} << (8 * m_h.item);
        }
        out[i] =
            m_h.kind == 'i' ? static_cast<double>(static_cast<int64_t>(v)) : static_cast<double>(v);
      }
    }
  }

 private:
  ByteStream m_stream;
  NpyHeader m_h;
  std::vector<unsigned char> m_buf;
};

class LogitsImporter final : public LogImporter {
 public:
  LogitsImporter(const std::vector<std::string>& paths, const ImportOptions& o) : m_o(o) {
    uint32_t moe = 0;
    for (bool b : o.is_moe) moe += b ? 1 : 0;
    m_meta.model = o.model;
    m_meta.layers = moe;
    m_meta.experts = o.experts;
    const LogitsRouting& r = o.routing;
    m_k = r.top_k ? r.top_k : o.top_k;
    m_meta.top_k = m_k;
    m_meta.source = "import:logits-npz";
    const std::string& p0 = paths.at(0);
    auto opt_fail = [&](const std::string& w) -> void {
      throw InputError(fmt::format("{}: cannot import: {}", p0, w));
    };
    if (m_k == 0 || m_k > o.experts) {
      opt_fail(fmt::format("top-k {} must be 1..{} (the model's experts)", m_k, o.experts));
    }
    if (r.groups) {
      if (o.experts % r.groups != 0) {
        opt_fail(fmt::format("--groups {} does not divide the {} experts", r.groups, o.experts));
      }
      if (r.topk_groups == 0 || r.topk_groups > r.groups) {
        opt_fail(fmt::format("--topk-groups must be 1..{} with --groups", r.groups));
      }
      if (static_cast<uint64_t>(r.topk_groups) * (o.experts / r.groups) < m_k) {
        opt_fail("the selected groups hold fewer experts than top-k");
      }
    } else if (r.topk_groups) {
      opt_fail("--topk-groups needs --groups");
    }
    if (!o.layers.empty()) opt_fail("--layers does not apply to logits-npz (log every layer)");
    std::string policy = r.top_p > 0 ? fmt::format("softmax top-p {} (at most {})", r.top_p, m_k)
                                     : fmt::format("softmax top-{}", m_k);
    if (r.groups) policy += fmt::format(", group-limited {} of {} groups", r.topk_groups, r.groups);
    policy += r.renormalize ? ", renormalised" : ", raw probabilities";
    if (r.capacity_factor > 0) policy += fmt::format(", capacity factor {}", r.capacity_factor);
    m_meta.extra["routing"] = policy;
    const std::string bad = trace_io::check_meta(m_meta);
    if (!bad.empty()) opt_fail(bad);
    open_arrays(paths);
    m_r.files = paths.size();
    m_r.files_mode = paths.size() > 1 ? "one per layer" : "single";
  }

  const TraceMeta& meta() const override { return m_meta; }
  const ImportReport& report() const override { return m_r; }

  bool next(TraceStep& step) override {
    if (m_next_token >= m_tokens) return false;
    // The tokens of this step: consecutive ones with the same step value.
    uint64_t end = m_next_token + 1;
    if (m_step) {
      const double s0 = step_value(m_next_token);
      while (end < m_tokens && step_value(end) == s0) ++end;
      if (end < m_tokens && step_value(end) < s0) {
        throw InputError(
            fmt::format("{}: member 'step': step {} after step {} at token {} "
                        "(steps must not descend)",
                        m_step_path, step_value(end), s0, end));
      }
    }
    const uint32_t n = static_cast<uint32_t>(end - m_next_token);
    step.clear();
    step.layers = m_meta.layers;
    step.tokens.resize(n);
    for (uint32_t t = 0; t < n; ++t) {
      const uint64_t tok = m_next_token + t;
      int64_t req = 0;
      if (m_request) {
        const double v = request_value(tok);
        if (v < 0 || v > 4294967295.0 || v != std::floor(v)) {
          throw InputError(
              fmt::format("{}: member 'request': value {} at token {} is not a "
                          "request id",
                          m_request_path, v, tok));
        }
        req = static_cast<int64_t>(v);
      }
      auto [it, fresh] =
          m_requests.try_emplace(req, RequestState{static_cast<uint32_t>(m_requests.size()), 0});
      step.tokens[t] = TraceToken{it->second.id, it->second.next++};
    }
    step.offsets.push_back(0);
    const uint32_t E = m_meta.experts;
    std::vector<double> logits(static_cast<size_t>(n) * E);
    for (uint32_t l = 0; l < m_meta.layers; ++l) {
      m_layers[l]->read(logits.data(), logits.size());
      std::vector<uint32_t> load(E, 0);
      const uint32_t cap =
          m_o.routing.capacity_factor > 0
              ? static_cast<uint32_t>(std::ceil(m_o.routing.capacity_factor * n * m_k / E))
              : UINT32_MAX;
      for (uint32_t t = 0; t < n; ++t) {
        route(&logits[static_cast<size_t>(t) * E], l, m_next_token + t);
        for (size_t i = 0; i < m_sel.size(); ++i) {
          const uint32_t e = m_sel[i];
          if (load[e] >= cap) {
            ++m_r.dropped_routes;
            continue;
          }
          ++load[e];
          step.experts.push_back(static_cast<int32_t>(e));
          step.weights.push_back(static_cast<float>(m_sel_w[i]));
        }
        step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
      }
    }
    m_next_token = end;
    ++m_r.passes;
    step.index = m_r.steps++;
    m_r.tokens += n;
    m_r.assignments += step.assignments();
    return true;
  }

 private:
  struct RequestState {
    uint32_t id = 0;
    uint32_t next = 0;
  };

  double step_value(uint64_t tok) { return scalar(*m_step, m_step_cache, m_step_at, tok); }
  double request_value(uint64_t tok) {
    return scalar(*m_request, m_request_cache, m_request_at, tok);
  }
  /// Values of a 1-D array read forward with a one-value look-ahead cache.
  static double scalar(ArrayRows& a, double& cache, uint64_t& at, uint64_t tok) {
    while (at <= tok) {
      a.read(&cache, 1);
      ++at;
    }
    return cache;  // tok == at - 1 (callers ask in ascending order, at most one ahead)
  }

  /// Routes one token at one layer into m_sel / m_sel_w (descending weight).
  void route(const double* x, uint32_t layer, uint64_t tok) {
    const uint32_t E = m_meta.experts;
    m_p.resize(E);
    double mx = -INFINITY;
    for (uint32_t e = 0; e < E; ++e) {
      if (!std::isfinite(x[e])) {
        throw InputError(fmt::format("{}: layer {} token {} expert {}: logit {} is not finite",
                                     m_layer_path[layer], layer, tok, e, x[e]));
      }
      mx = std::max(mx, x[e]);
    }
    double sum = 0;
    for (uint32_t e = 0; e < E; ++e) sum += (m_p[e] = std::exp(x[e] - mx));
    for (uint32_t e = 0; e < E; ++e) m_p[e] /= sum;
    m_order.resize(E);
    std::iota(m_order.begin(), m_order.end(), 0u);
    uint32_t cands = E;
    if (m_o.routing.groups) {
      // Group-limited: a group scores its best expert; the best topk_groups groups compete.
      const uint32_t G = m_o.routing.groups, per = E / G;
      std::vector<std::pair<double, uint32_t>> gs(G);
      for (uint32_t g = 0; g < G; ++g) {
        gs[g] = {*std::max_element(m_p.begin() + g * per, m_p.begin() + (g + 1) * per), g};
      }
      std::stable_sort(gs.begin(), gs.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      std::vector<bool> keep(G, false);
      for (uint32_t i = 0; i < m_o.routing.topk_groups; ++i) keep[gs[i].second] = true;
      cands = 0;
      for (uint32_t e = 0; e < E; ++e) {
        if (keep[e / per]) m_order[cands++] = e;
      }
      m_order.resize(cands);
    }
    std::stable_sort(m_order.begin(), m_order.end(),
                     [&](uint32_t a, uint32_t b) { return m_p[a] > m_p[b]; });
    uint32_t k = std::min(m_k, cands);
    if (m_o.routing.top_p > 0) {
      double c = 0;
      uint32_t i = 0;
      while (i < k) {
        c += m_p[m_order[i++]];
        if (c >= m_o.routing.top_p) break;
      }
      k = i;
    }
    m_sel.assign(m_order.begin(), m_order.begin() + k);
    m_sel_w.resize(k);
    double s = 0;
    for (uint32_t i = 0; i < k; ++i) s += (m_sel_w[i] = m_p[m_sel[i]]);
    if (m_o.routing.renormalize) {
      for (double& w : m_sel_w) w /= s;
    }
  }

  /// Checks a logits array's shape: (tokens, experts), or (layers, tokens, experts).
  void check_logits(ArrayRows& a, const std::string& path, const std::string& what, size_t dims) {
    const NpyHeader& h = a.header();
    if (h.kind != 'f') a.stream().fail("logits must be float16 or float32");
    if (h.shape.size() != dims) {
      a.stream().fail(fmt::format("expected a {}-D array ({}), got {} dimensions", dims,
                                  dims == 2 ? "tokens x experts" : "layers x tokens x experts",
                                  h.shape.size()));
    }
    const uint64_t e = h.shape.back(), t = h.shape[dims - 2];
    if (e != m_meta.experts) {
      a.stream().fail(
          fmt::format("{} experts per row but model '{}' has {}", e, m_meta.model, m_meta.experts));
    }
    if (dims == 3 && h.shape[0] != m_meta.layers) {
      a.stream().fail(fmt::format("{} layers but model '{}' has {} MoE layers", h.shape[0],
                                  m_meta.model, m_meta.layers));
    }
    if (m_tokens_known && t != m_tokens) {
      a.stream().fail(fmt::format("{} tokens but {} has {}", t, m_tokens_from, m_tokens));
    }
    if (!m_tokens_known) {
      m_tokens_known = true;
      m_tokens = t;
      m_tokens_from = path + " " + what;
    }
  }

  void open_arrays(const std::vector<std::string>& paths) {
    const uint32_t L = m_meta.layers;
    auto is_npz = [](const std::string& p) {
      return p.size() > 4 && p.compare(p.size() - 4, 4, ".npz") == 0;
    };
    if (paths.size() == 1 && is_npz(paths[0])) {
      const std::string& p = paths[0];
      const auto members = zip_members(p);
      for (uint32_t l = 0; l < L; ++l) {
        const auto it = members.find("layer_" + std::to_string(l));
        if (it == members.end()) {
          throw InputError(
              fmt::format("{}: missing member 'layer_{}' (model '{}' has {} MoE "
                          "layers: layer_0 .. layer_{})",
                          p, l, m_meta.model, L, L - 1));
        }
        m_layers.push_back(std::make_unique<ArrayRows>(p, it->second));
        m_layer_path.push_back(p);
        check_logits(*m_layers.back(), p, it->second.what, 2);
      }
      for (const auto& [name, place] : members) {
        const bool layer = name.rfind("layer_", 0) == 0;
        if (layer) {
          const std::string num = name.substr(6);
          if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos ||
              std::stoul(num) >= L) {
            throw InputError(
                fmt::format("{}: member '{}': model '{}' has {} MoE layers "
                            "(layer_0 .. layer_{})",
                            p, name, m_meta.model, L, L - 1));
          }
        } else if (name == "request" || name == "step") {
          auto a = std::make_unique<ArrayRows>(p, place);
          if (a->header().shape.size() != 1 || a->header().shape[0] != m_tokens ||
              a->header().kind == 'f') {
            a->stream().fail(fmt::format("expected {} integers (one per token)", m_tokens));
          }
          (name == "request" ? m_request : m_step) = std::move(a);
          (name == "request" ? m_request_path : m_step_path) = p;
        }
        // Other members are ignored (dumps add fields).
      }
      return;
    }
    for (const auto& p : paths) {
      if (is_npz(p)) {
        throw InputError(fmt::format("{}: one .npz holds every layer: give it alone", p));
      }
    }
    trace_io::FilePtr f = trace_io::open_input(paths[0]);
    std::fseek(f.get(), 0, SEEK_END);
    const uint64_t whole = static_cast<uint64_t>(std::ftell(f.get()));
    if (paths.size() == 1) {
      // One 3-D .npy: layer l starts l * tokens * experts values into the data.
      ArrayPlace place{"array", 0, whole, false};
      auto first = std::make_unique<ArrayRows>(paths[0], place);
      check_logits(*first, paths[0], "array", 3);
      const uint64_t layer_bytes = m_tokens * m_meta.experts * first->header().item;
      m_layers.push_back(std::move(first));
      m_layer_path.push_back(paths[0]);
      for (uint32_t l = 1; l < L; ++l) {
        m_layers.push_back(std::make_unique<ArrayRows>(paths[0], place, l * layer_bytes));
        m_layer_path.push_back(paths[0]);
      }
      return;
    }
    if (paths.size() != L) {
      throw InputError(
          fmt::format("{}: {} .npy files given but model '{}' has {} MoE layers "
                      "(one file per layer, in layer order)",
                      paths[0], paths.size(), m_meta.model, L));
    }
    for (const auto& p : paths) {
      trace_io::FilePtr g = trace_io::open_input(p);
      std::fseek(g.get(), 0, SEEK_END);
      ArrayPlace place{"array", 0, static_cast<uint64_t>(std::ftell(g.get())), false};
      m_layers.push_back(std::make_unique<ArrayRows>(p, place));
      m_layer_path.push_back(p);
      check_logits(*m_layers.back(), p, "array", 2);
    }
  }

  ImportOptions m_o;
  TraceMeta m_meta;
  ImportReport m_r;
  uint32_t m_k = 0;
  std::vector<std::unique_ptr<ArrayRows>> m_layers;
  std::vector<std::string> m_layer_path;
  std::unique_ptr<ArrayRows> m_request, m_step;
  std::string m_request_path, m_step_path;
  double m_request_cache = 0, m_step_cache = 0;
  uint64_t m_request_at = 0, m_step_at = 0;
  bool m_tokens_known = false;
  uint64_t m_tokens = 0;
  std::string m_tokens_from;
  uint64_t m_next_token = 0;
  std::unordered_map<int64_t, RequestState> m_requests;
  std::vector<double> m_p, m_sel_w;
  std::vector<uint32_t> m_order, m_sel;
};

}  // namespace

std::unique_ptr<LogImporter> open_logits_import(const std::vector<std::string>& paths,
                                                const ImportOptions& options) {
  if (paths.empty()) throw InputError("trace import: no input file");
  return std::make_unique<LogitsImporter>(paths, options);
}

}  // namespace moesim
