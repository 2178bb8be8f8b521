#include <tessera/core/error.hpp>

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

namespace tessera {

namespace {
std::string task_error_text(const std::string& key, int rank, const std::string& type,
                            const std::string& message) {
  std::ostringstream os;
  os << "task '" << key << "' failed on rank " << rank << ": " << type << ": " << message;
  return os.str();
}
}  // namespace

TaskError::TaskError(std::string key, int rank, std::string type, std::string message)
    : Error(task_error_text(key, rank, type, message)),
      m_key(std::move(key)),
      m_rank(rank),
      m_type(std::move(type)),
      m_message(std::move(message)) {}

namespace detail {

void assert_fail(const char* expr, const char* msg, std::source_location where) {
  std::fprintf(stderr, "tessera internal error at %s:%u: assertion '%s' failed: %s\n",
               where.file_name(), static_cast<unsigned>(where.line()), expr, msg);
  std::fflush(stderr);
  std::abort();
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             std::free);
  return (status == 0 && out) ? std::string(out.get()) : std::string(mangled);
}

std::string current_exception_type() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  return t ? demangle(t->name()) : std::string("unknown");
}

}  // namespace detail
}  // namespace tessera
