#pragma once
/// How an output file is put in place.

#include <filesystem>
#include <string>
#include <system_error>

namespace moesim {

/// True when `path` must be written in place rather than through a temporary file renamed over
/// it: it is a symbolic link (/dev/stdout, a link a user made to a results file), a device or a
/// FIFO. Renaming over such a path would replace the link or the device node itself (as root,
/// /dev/stdout or /dev/null) with a regular file. A plain file, a directory (which then fails
/// with its own message) or a path that does not exist yet goes through the temporary file.
inline bool write_in_place(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::symlink_status(path, ec);
  return !ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st) &&
         !std::filesystem::is_directory(st);
}

}  // namespace moesim
