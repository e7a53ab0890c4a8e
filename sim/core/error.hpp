#pragma once
/// Error types shared by every part of moesim.
///
/// InputError is anything the user can fix (config, trace, command line, missing file):
/// the program prints its message once and exits with code 2. Anything else that escapes
/// is an internal error and exits with code 1.

#include <stdexcept>
#include <string>

namespace moesim {

/// A problem with user input; what() is the complete one-line message.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

/// A broken invariant inside moesim (a bug, not bad input).
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

}  // namespace moesim
