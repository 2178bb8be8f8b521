#pragma once

// Internal: RFC 4180 record tokenizer. Fields are views into the input, except quoted fields
// with doubled quotes, which are unescaped into a scratch buffer.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::dataframe::detail {

struct FieldRef {
  const char* p = nullptr;   // into the input, or null: in scratch at `off`
  std::size_t off = 0;
  std::size_t n = 0;
  bool quoted = false;
};

struct Record {
  std::vector<FieldRef> fields;
  std::string scratch;
  std::size_t newlines = 0;   // newlines the record spans (its terminator included)
  bool unterminated = false;  // a quote opened and never closed
  bool blank = false;         // an empty line

  [[nodiscard]] std::string_view field(std::size_t i) const noexcept {
    const FieldRef& f = fields[i];
    return f.p ? std::string_view(f.p, f.n) : std::string_view(scratch.data() + f.off, f.n);
  }
};

/// Reads one record starting at `p`; returns the position after its terminator.
inline const char* next_record(const char* p, const char* end, char sep, Record& r) {
  r.fields.clear();
  r.scratch.clear();
  r.newlines = 0;
  r.unterminated = false;
  const char* const start = p;
  for (;;) {
    FieldRef f;
    if (p < end && *p == '"') {
      f.quoted = true;
      const char* b = ++p;
      bool escaped = false;
      for (;;) {
        const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (!q) {
          r.unterminated = true;
          r.newlines += static_cast<std::size_t>(std::count(p, end, '\n'));
          q = end;
          p = end;
          break;
        }
        r.newlines += static_cast<std::size_t>(std::count(p, q, '\n'));
        if (q + 1 < end && q[1] == '"') {
          escaped = true;
          p = q + 2;
          continue;
        }
        p = q + 1;
        break;
      }
      const char* e = r.unterminated ? end : p - 1;
      // Characters between the closing quote and the separator are kept (as pandas does).
      const char* tail = p;
      while (p < end && *p != sep && *p != '\n' && *p != '\r') ++p;
      if (escaped || tail != p) {
        f.off = r.scratch.size();
        for (const char* c = b; c < e; ++c) {
          r.scratch.push_back(*c);
          if (*c == '"' && c + 1 < e && c[1] == '"') ++c;
        }
        r.scratch.append(tail, p);
        f.n = r.scratch.size() - f.off;
      } else {
        f.p = b;
        f.n = static_cast<std::size_t>(e - b);
      }
      if (p < end && *p == '\r' && (p + 1 == end || p[1] == '\n')) ++p;
    } else {
      const char* b = p;
      while (p < end && *p != sep && *p != '\n') ++p;
      const char* e = p;
      if (e > b && e[-1] == '\r' && (p == end || *p == '\n')) --e;
      f.p = b;
      f.n = static_cast<std::size_t>(e - b);
    }
    r.fields.push_back(f);
    if (p >= end) break;
    if (*p == sep) {
      ++p;
      if (p == end) {
        r.fields.push_back(FieldRef{p, 0, 0, false});
        break;
      }
      continue;
    }
    if (*p == '\n') {
      ++p;
      ++r.newlines;
      break;
    }
    ++p;  // a stray '\r' inside a line
  }
  r.blank = r.fields.size() == 1 && !r.fields[0].quoted && r.fields[0].n == 0;
  (void)start;
  return p;
}

}  // namespace tessera::dataframe::detail
