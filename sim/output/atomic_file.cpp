#include "sim/output/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/output_path.hpp"

namespace moesim {

namespace {

void write_stream(const std::string& path, const std::string& text, bool remove_on_error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(fmt::format("{}: cannot write ({})", path, std::strerror(errno)));
  f << text;
  f.flush();
  if (!f) {
    if (remove_on_error) std::remove(path.c_str());
    throw InputError(fmt::format("{}: write failed ({})", path, std::strerror(errno)));
  }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& text) {
  if (write_in_place(path)) {
    write_stream(path, text, false);
    return;
  }
  const std::string tmp = path + ".tmp";
  write_stream(tmp, text, true);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError(fmt::format("{}: cannot rename into place ({})", path, std::strerror(errno)));
  }
}

}  // namespace moesim
