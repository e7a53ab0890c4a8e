#include "sim/output/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) {
      throw InputError(fmt::format("{}: cannot write ({})", tmp, std::strerror(errno)));
    }
    f << text;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw InputError(fmt::format("{}: write failed ({})", tmp, std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError(fmt::format("{}: cannot rename into place ({})", path, std::strerror(errno)));
  }
}

}  // namespace moesim
