#pragma once

// same_json: Json equality that also compares nlohmann's types (for read_json's and the Json
// codec's tests).

#include <tessera/collections/bag/json.hpp>

#include <cmath>
#include <cstddef>

namespace bagtest {
/// Equal values of the same nlohmann types all the way down (operator== would take 1u == 1 and
/// 0 == -0.0), objects with the same keys in the same order.
inline bool same_json(const tessera::Json& a, const tessera::Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
      if (i.key() != j.key() || !same_json(i.value(), j.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (!same_json(a[k], b[k])) return false;
    }
    return true;
  }
  if (a.is_number_float()) {
    const double x = a.get<double>(), y = b.get<double>();
    return std::signbit(x) == std::signbit(y) && (x == y || (std::isnan(x) && std::isnan(y)));
  }
  return a == b;
}
}  // namespace bagtest
