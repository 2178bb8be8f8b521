#pragma once

/// @file
/// The exception types tessera throws on purpose, the one place that builds their messages
/// (TESSERA_THROW), and the internal-invariant check (TESSERA_ASSERT).
///
/// Every message names what is at fault (key, shape, file, dataset, rank) and reads the same in
/// release and debug builds.

#include <source_location>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tessera {

/// Base of every exception this library throws on purpose.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Graph construction or inspection errors: unknown keys, key collisions, bad arguments.
class GraphError : public Error {
public:
  using Error::Error;
};
/// Shape, dtype or chunking mismatch, thrown when an expression is built.
class ShapeError : public Error {
public:
  using Error::Error;
};
/// Memory budget, spill and HDF5 file errors.
class StorageError : public Error {
public:
  using Error::Error;
};
/// MPI transport failures, lost ranks, mismatched binaries.
class TransportError : public Error {
public:
  using Error::Error;
};
/// Bad configuration: environment variables, scheduler names, option values.
class ConfigError : public Error {
public:
  using Error::Error;
};
/// A value could not be serialized or deserialized (type not serializable, truncated bytes).
class SerializationError : public Error {
public:
  using Error::Error;
};
/// Work that was cancelled before it produced a result.
class CancelledError : public Error {
public:
  using Error::Error;
};

/// An exception thrown inside a task, as it reaches compute()/result().
///
/// what() reads "task 'inc-5f1c...' failed on rank 2: std::runtime_error: <original message>".
/// The original message, exception type and the rank that ran the task are kept separately.
class TaskError : public Error {
public:
  TaskError(std::string key, int rank, std::string type, std::string message);

  [[nodiscard]] const std::string& key() const noexcept { return m_key; }
  /// Rank that ran the task; 0 for the sync and threads schedulers.
  [[nodiscard]] int rank() const noexcept { return m_rank; }
  /// Dynamic type of the original exception (demangled), e.g. "std::invalid_argument".
  [[nodiscard]] const std::string& type() const noexcept { return m_type; }
  /// The original exception's what().
  [[nodiscard]] const std::string& message() const noexcept { return m_message; }

private:
  std::string m_key;
  int m_rank;
  std::string m_type;
  std::string m_message;
};

namespace detail {

/// Builds "<parts>" and throws E. Kept [[noreturn]] so callers read as straight-line checks.
template <class E, class... Parts>
[[noreturn]] void throw_error(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw E(os.str());
}

[[noreturn]] void assert_fail(const char* expr, const char* msg, std::source_location where);

/// Demangled dynamic type name of the exception currently being handled ("unknown" if none).
std::string current_exception_type();
/// Demangles a typeid name.
std::string demangle(const char* mangled);

}  // namespace detail
}  // namespace tessera

/// Throws `Type` with the concatenation of the remaining arguments as message.
#define TESSERA_THROW(Type, ...) ::tessera::detail::throw_error<Type>(__VA_ARGS__)

/// Internal invariant: a failure is a bug in tessera, so abort with file:line. Never used for
/// anything user input can cause.
#define TESSERA_ASSERT(cond, msg)                                         \
  ((cond) ? void(0)                                                        \
          : ::tessera::detail::assert_fail(#cond, msg, std::source_location::current()))
