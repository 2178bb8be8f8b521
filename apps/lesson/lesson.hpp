#pragma once

// Shared pieces of the tessera-lesson subcommands.

#include <tessera/tessera.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <cstdio>
#include <string>
#include <type_traits>

namespace lesson {

/// Parsed command line: `tessera-lesson <subcommand> [--flag value]...`.
struct Args {
  std::string command;
  std::map<std::string, std::string> flags;

  [[nodiscard]] std::string str(const std::string& name, const std::string& fallback) const;
  [[nodiscard]] long long integer(const std::string& name, long long fallback) const;
  [[nodiscard]] double number(const std::string& name, double fallback) const;
  [[nodiscard]] bool has(const std::string& name) const { return flags.count(name) != 0; }
};

/// What a subcommand needs from main: the scheduler to use and where to write the graph.
struct Context {
  Args args;
  std::shared_ptr<tessera::Scheduler> scheduler;
  double program_start = 0;  // seconds, steady clock
};

double now_seconds();

/// Prints the lesson's output lines: result=..., Compute time: ...s, wall clock time: ...s.
void report(const std::string& result, double compute_seconds, const Context& ctx);

/// Writes the graph to --graph FILE if given.
template <class... T>
void maybe_draw(const Context& ctx, const tessera::Delayed<T>&... values) {
  if (ctx.args.has("graph")) tessera::TaskGraph::of(values...).visualize(ctx.args.flags.at("graph"));
}

/// The result as the lesson prints it: integers exactly, floating point with 17 digits.
template <class T>
std::string format_result(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(v));
    return buf;
  } else {
    return std::to_string(v);
  }
}

/// Draws the graph if asked, computes `result` on the context's scheduler, prints the lesson's
/// lines. Returns the exit status.
template <class T>
int compute_and_report(const Context& ctx, const tessera::Delayed<T>& result) {
  maybe_draw(ctx, result);
  const double t0 = now_seconds();
  const T r = tessera::compute(result, ctx.scheduler);
  report(format_result(r), now_seconds() - t0, ctx);
  return 0;
}

int diamond(const Context& ctx);
int loop(const Context& ctx);
int flow(const Context& ctx);
int compute_parts(const Context& ctx);
int sumnum(const Context& ctx);
int array_mean(const Context& ctx);
int numpy_mean(const Context& ctx);
int bag_wordcount(const Context& ctx);
int bag_accounts(const Context& ctx);
int frame_flights(const Context& ctx);

/// The lesson's CPU-bound kernel computePart(size): sum(range(size)), exact in 64-bit integers
/// (the lesson's Cython version declares a C `int` and overflows for its own default size).
std::int64_t compute_part(std::int64_t size);

}  // namespace lesson
