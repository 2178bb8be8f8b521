#pragma once

// Small helpers shared by the benchmark programs.

#include <cstddef>
#include <string>
#include <vector>

namespace tessera::bench {

/// "10000,100000,1000000" -> {10000, 100000, 1000000}.
inline std::vector<std::size_t> parse_sizes(const std::string& text) {
  std::vector<std::size_t> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto comma = text.find(',', pos);
    out.push_back(std::stoull(text.substr(pos, comma - pos)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace tessera::bench
