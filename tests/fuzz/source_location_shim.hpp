// Force-included into the fuzz build only: clang 14 with libstdc++ 12 has no
// std::source_location (libstdc++ needs __builtin_source_location, which clang has from 15).
// tessera uses file_name() and line() for TESSERA_ASSERT messages; here they are empty.
#pragma once
#include <source_location>
#if !defined(__cpp_lib_source_location)
#include <cstdint>
namespace std {
struct source_location {
  static constexpr source_location current() noexcept { return {}; }
  constexpr const char* file_name() const noexcept { return "?"; }
  constexpr const char* function_name() const noexcept { return "?"; }
  constexpr std::uint_least32_t line() const noexcept { return 0; }
  constexpr std::uint_least32_t column() const noexcept { return 0; }
};
}  // namespace std
#endif
