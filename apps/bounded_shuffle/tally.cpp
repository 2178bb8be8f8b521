// Tallies: gathered in partition order, summed, and the verdict line.
#include "workloads.hpp"

namespace bounded {

std::vector<Tally> gather_tallies(const std::vector<Tally>& tallies) { return tallies; }

Tally total(const std::vector<Tally>& tallies) {
  Tally t;
  bool first = true;
  for (const auto& x : tallies) {
    t.rows += x.rows;
    t.sum += x.sum;
    t.groups += x.groups;
    t.keysum += x.keysum;
    t.bad += x.bad;
    if (x.rows == 0) continue;
    if (first) t.lo = x.lo;
    t.hi = x.hi;
    first = false;
  }
  return t;
}

std::string verdict(bool ok, const std::string& what) { return (ok ? "ok: " : "WRONG: ") + what; }

}  // namespace bounded
