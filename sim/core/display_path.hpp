#pragma once
/// How an input path is shown and stored: relative to the working directory where that is
/// shorter to read.

#include <filesystem>
#include <string>
#include <system_error>

namespace moesim {

/// `path` relative to the working directory (std::filesystem::proximate). When the file system
/// cannot resolve it (a name too long for it, an unreadable directory), the same is done
/// lexically, and failing that `path` itself is returned: the caller's own check of the file
/// then reports the problem with its location. Never throws std::filesystem::filesystem_error.
inline std::string display_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::proximate(path, ec);
  if (!ec && !p.empty()) return p.string();
  const fs::path cwd = fs::current_path(ec);
  if (ec) return path;
  p = fs::path(path).lexically_proximate(cwd);
  return p.empty() ? path : p.string();
}

}  // namespace moesim
