#include "collections/glob_paths.hpp"

#include <glob.h>

namespace tessera::detail {

GlobMatches glob_paths(const std::string& pattern) {
  GlobMatches m;
  if (pattern.find_first_of("*?[") == std::string::npos) {
    m.paths.push_back(pattern);
    return m;
  }
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  if (rc == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) m.paths.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  m.failed = rc != 0 && rc != GLOB_NOMATCH;
  return m;
}

}  // namespace tessera::detail
