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

/// An InputError about one key of a model's parameters, raised where no config is at hand
/// (a model's describe()); whoever holds the config re-raises it at the key's location.
class ParamError : public InputError {
 public:
  ParamError(std::string key, const std::string& what)
      : InputError(key + ": " + what), m_key(std::move(key)), m_what(what) {}
  /// Dotted path of the key, e.g. "chip.memory.hbm.address_mapping".
  const std::string& key() const { return m_key; }
  /// The message without the key.
  const std::string& what_only() const { return m_what; }

 private:
  std::string m_key;
  std::string m_what;
};

/// A broken invariant inside moesim (a bug, not bad input).
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

}  // namespace moesim
