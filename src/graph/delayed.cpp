#include <tessera/graph/delayed.hpp>

#include <tessera/serialization/code_ref.hpp>

#include <atomic>

namespace tessera::detail {

std::uint64_t next_impure_token() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 0x5EED;
}

std::string callable_name(const std::type_info& type) {
  const std::string full = demangle(type.name());
  if (full.find("lambda") != std::string::npos) return "lambda";
  std::string s = full;
  if (auto p = s.find('<'); p != std::string::npos) s.resize(p);
  if (auto p = s.rfind("::"); p != std::string::npos) s.erase(0, p + 2);
  return s.empty() ? std::string("task") : s;
}

std::string function_pointer_name(const void* fn) {
  std::string s = symbol_name(fn);
  return s.empty() ? std::string("task") : s;
}

std::uint64_t function_pointer_token(const void* fn) {
  Hasher h;
  try {
    const CodeRef ref = code_ref(fn);
    h.u64(ref.module);
    h.u64(ref.offset);
  } catch (const SerializationError&) {
    h.u64(reinterpret_cast<std::uintptr_t>(fn));
  }
  return h.digest();
}

}  // namespace tessera::detail
