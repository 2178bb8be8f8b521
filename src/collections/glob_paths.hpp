#pragma once
// Private to collections: the files a path or glob pattern names (read_text, read_csv).

#include <string>
#include <vector>

namespace tessera::detail {

/// What glob(3) found for `pattern`; a pattern without '*', '?' or '[' is returned as itself.
struct GlobMatches {
  std::vector<std::string> paths;  // in glob(3)'s order
  bool failed = false;             // glob(3) failed for another reason than "no match"
};

GlobMatches glob_paths(const std::string& pattern);

}  // namespace tessera::detail
