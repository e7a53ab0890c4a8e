#pragma once
/// Writing a result file so that a reader never sees half of it.

#include <string>

namespace moesim {

/// Writes `text` to `path` atomically (temporary file, then rename). A path that is a symbolic
/// link, a device or a FIFO (`/dev/stdout`) is written in place instead. Throws InputError.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace moesim
