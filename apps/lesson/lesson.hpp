#pragma once

// Shared pieces of the tessera-lesson subcommands.

#include <tessera/tessera.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

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

int diamond(const Context& ctx);
int loop(const Context& ctx);
int flow(const Context& ctx);
int compute_parts(const Context& ctx);
int sumnum(const Context& ctx);
int array_mean(const Context& ctx);
int numpy_mean(const Context& ctx);

/// The lesson's CPU-bound kernel: sum of i for i in [begin, end), exact in 64-bit integers.
std::int64_t compute_part(std::int64_t begin, std::int64_t end);

}  // namespace lesson
