#pragma once
/// Writing a result file so that a reader never sees half of it.

#include <string>

namespace moesim {

/// Writes `text` to `path` atomically (temporary file, then rename). Throws InputError.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace moesim
