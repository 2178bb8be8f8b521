// bm_delayed: what a task costs in tessera, local schedulers only.
//
// Figures of merit (Release build, best of --reps runs, per task = time / tasks in the graph):
//   1. graph build time per task: N leaves delayed(inc)(i) plus a reduction tree of
//      delayed(add)(a, b) (binary) or delayed(sum)(8 values) (8-ary), as in Dask's overhead
//      benchmark; also the leaves alone computed as a list (N outputs);
//   2. compute time per task (tessera::compute: ExecGraph::build + run) for SyncScheduler,
//      ThreadScheduler with 1 and 2 threads, and a minimal oneTBB executor (tbb::task_group
//      over the same ExecGraph, node bodies run by detail::run_task) with 1 and 2 threads, so our
//      pool can be compared with TBB's;
//   3. the lesson's compute-parts (sum of [0, size) in `parts` tasks) at 1 and 2 threads:
//      the parallel speed-up of CPU-bound tasks.
// Output: a table on stdout, then one JSON object per measurement (lines starting with '{').
// Run: bm_delayed [--sizes 10000,100000,1000000] [--reps 3] [--size 400000000] [--parts 4]
#include "bench_common.hpp"
#include <tessera/graph/exec_graph.hpp>
#include <tessera/tessera.hpp>

#ifdef TESSERA_BENCH_HAVE_TBB
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::int64_t inc(std::int64_t x) { return x + 1; }
std::int64_t add(std::int64_t a, std::int64_t b) { return a + b; }
std::int64_t sum8(const std::vector<std::int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::int64_t{0});
}

// The lesson's compute-parts kernel (apps/lesson/delayed_examples.cpp).
std::int64_t compute_part(std::int64_t begin, std::int64_t end) {
  std::int64_t part = 0;
  for (std::int64_t i = begin; i < end; ++i) {
    part += i;
    asm volatile("" : "+r"(part));  // stop the compiler from using the closed form
  }
  return part;
}

enum class Shape { leaves, tree2, tree8 };
const char* shape_name(Shape s) {
  return s == Shape::leaves ? "leaves" : s == Shape::tree2 ? "leaves+tree2" : "leaves+tree8";
}

struct Graph {
  std::vector<tessera::Delayed<std::int64_t>> outputs;  // one (tree) or N (leaves)
  std::size_t tasks = 0;
  std::int64_t expected = 0;  // sum of the outputs
};

Graph build(Shape shape, std::size_t n) {
  Graph g;
  const auto d_inc = tessera::delayed(inc, {.name = "inc"});
  std::vector<tessera::Delayed<std::int64_t>> level;
  level.reserve(n);
  for (std::size_t i = 0; i < n; ++i) level.push_back(d_inc(static_cast<std::int64_t>(i)));
  g.tasks = n;
  g.expected = static_cast<std::int64_t>(n) * static_cast<std::int64_t>(n + 1) / 2;
  if (shape == Shape::leaves) {
    g.outputs = std::move(level);
    return g;
  }
  const auto d_add = tessera::delayed(add, {.name = "add"});
  const auto d_sum = tessera::delayed(sum8, {.name = "sum"});
  while (level.size() > 1) {
    std::vector<tessera::Delayed<std::int64_t>> next;
    if (shape == Shape::tree2) {
      next.reserve(level.size() / 2 + 1);
      for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(d_add(level[i], level[i + 1]));
      if (level.size() % 2) next.push_back(level.back());
    } else {
      next.reserve(level.size() / 8 + 1);
      for (std::size_t i = 0; i < level.size(); i += 8) {
        std::vector<tessera::Delayed<std::int64_t>> group(
            level.begin() + static_cast<std::ptrdiff_t>(i),
            level.begin() + static_cast<std::ptrdiff_t>(std::min(level.size(), i + 8)));
        next.push_back(d_sum(group));
      }
    }
    g.tasks += next.size() - (shape == Shape::tree2 ? level.size() % 2 : 0);
    level = std::move(next);
  }
  g.outputs = std::move(level);
  return g;
}

std::int64_t sum_values(const std::vector<tessera::Value>& values) {
  std::int64_t s = 0;
  for (const auto& v : values) s += v.decoded<std::int64_t>().get<std::int64_t>();
  return s;
}

std::vector<tessera::detail::NodePtr> roots_of(const Graph& g) {
  std::vector<tessera::detail::NodePtr> roots;
  roots.reserve(g.outputs.size());
  for (const auto& d : g.outputs) roots.push_back(d.node());
  return roots;
}

#ifdef TESSERA_BENCH_HAVE_TBB
// A minimal oneTBB executor over an ExecGraph: dependency counters, one task per node, the last
// dependent that becomes ready runs next on the same thread (scheduler bypass), the others are
// spawned into a task_group; leaves are started by a parallel_for.
class TbbExecutor {
public:
  explicit TbbExecutor(int threads) : m_arena(threads) {}

  std::vector<tessera::Value> run(const tessera::ExecGraph& g) {
    const auto n = static_cast<std::uint32_t>(g.size());
    m_graph = &g;
    m_pending = std::make_unique<std::atomic<std::uint32_t>[]>(n);
    m_consumers = std::make_unique<std::atomic<std::uint32_t>[]>(n);
    m_values.assign(n, tessera::Value{});
    std::vector<std::uint32_t> ready;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::uint32_t>(g.inputs_of(i).size());
      m_pending[i].store(k, std::memory_order_relaxed);
      m_consumers[i].store(g.consumers[i], std::memory_order_relaxed);
      if (k == 0) ready.push_back(i);
    }
    m_arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, ready.size(), 256),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t k = r.begin(); k != r.end(); ++k) execute(ready[k]);
                        });
      m_group.wait();
    });
    if (m_error) std::rethrow_exception(m_error);
    std::vector<tessera::Value> out;
    out.reserve(g.outputs.size());
    for (auto o : g.outputs) out.push_back(m_values[o]);
    m_values.clear();
    return out;
  }

private:
  void execute(std::uint32_t i) {
    const auto& g = *m_graph;
    thread_local std::vector<tessera::Value> inputs;
    while (true) {
      const auto& node = *g.nodes[i];
      try {
        if (node.is_computed()) {
          m_values[i] = tessera::detail::known_result(node);
        } else {
          inputs.clear();
          for (auto j : g.inputs_of(i)) inputs.push_back(m_values[j]);
          m_values[i] = tessera::detail::run_task(node, inputs, 0);
          inputs.clear();
          for (auto j : g.inputs_of(i)) {
            if (m_consumers[j].fetch_sub(1, std::memory_order_acq_rel) == 1) m_values[j] = tessera::Value{};
          }
        }
      } catch (...) {
        std::lock_guard lock(m_error_mutex);
        if (!m_error) m_error = std::current_exception();
        return;
      }
      std::uint32_t next = UINT32_MAX;
      for (auto d : g.dependents_of(i)) {
        if (m_pending[d].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        if (next != UINT32_MAX) m_group.run([this, next] { execute(next); });
        next = d;
      }
      if (next == UINT32_MAX) return;
      i = next;
    }
  }

  tbb::task_arena m_arena;
  tbb::task_group m_group;
  const tessera::ExecGraph* m_graph = nullptr;
  std::unique_ptr<std::atomic<std::uint32_t>[]> m_pending, m_consumers;
  std::vector<tessera::Value> m_values;
  std::mutex m_error_mutex;
  std::exception_ptr m_error;
};
#endif

struct Runner {
  std::string name;
  std::function<std::vector<tessera::Value>(const tessera::ExecGraph&)> run;
};

std::vector<Runner> runners() {
  std::vector<Runner> out;
  auto sync = std::make_shared<tessera::SyncScheduler>();
  auto t1 = std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{1});
  auto t2 = std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{2});
  // Through the same entry point compute() uses, without observers.
  auto via = [](std::shared_ptr<tessera::Scheduler> s) {
    return [s](const tessera::ExecGraph& g) {
      tessera::RunContext ctx;
      return s->run(g, ctx);
    };
  };
  out.push_back({"sync", via(sync)});
  out.push_back({"threads-1", via(t1)});
  out.push_back({"threads-2", via(t2)});
#ifdef TESSERA_BENCH_HAVE_TBB
  auto tbb1 = std::make_shared<TbbExecutor>(1);
  auto tbb2 = std::make_shared<TbbExecutor>(2);
  out.push_back({"tbb-1", [tbb1](const tessera::ExecGraph& g) { return tbb1->run(g); }});
  out.push_back({"tbb-2", [tbb2](const tessera::ExecGraph& g) { return tbb2->run(g); }});
#endif
  return out;
}

using tessera::bench::parse_sizes;

struct Row {
  std::string shape, scheduler;
  std::size_t n = 0, tasks = 0;
  double build_s = 0, exec_graph_s = 0, run_s = 0, compute_s = 0, teardown_s = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {10'000, 100'000, 1'000'000};
  int reps = 3;
  std::int64_t part_size = 400'000'000;
  std::int64_t parts = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sizes")) sizes = parse_sizes(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--size")) part_size = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--parts")) parts = std::atoll(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bm_delayed [--sizes a,b,c] [--reps R] [--size N] [--parts P]\n");
      return 2;
    }
  }

  auto all = runners();
  std::vector<Row> rows;
  for (std::size_t n : sizes) {
    for (Shape shape : {Shape::leaves, Shape::tree2, Shape::tree8}) {
      for (const auto& runner : all) {
        Row best;
        best.build_s = best.exec_graph_s = best.run_s = best.compute_s = best.teardown_s = 1e300;
        for (int r = 0; r < reps; ++r) {
          auto t0 = Clock::now();
          auto g = std::make_unique<Graph>(build(shape, n));
          const double build_s = seconds_since(t0);
          t0 = Clock::now();
          auto eg = std::make_unique<tessera::ExecGraph>(tessera::ExecGraph::build(roots_of(*g)));
          const double exec_graph_s = seconds_since(t0);
          t0 = Clock::now();
          const auto values = runner.run(*eg);
          const double run_s = seconds_since(t0);
          if (sum_values(values) != g->expected) {
            std::fprintf(stderr, "bm_delayed: wrong result from %s on %s\n", runner.name.c_str(),
                         shape_name(shape));
            return 1;
          }
          best.shape = shape_name(shape);
          best.scheduler = runner.name;
          best.n = n;
          best.tasks = eg->num_to_run();
          t0 = Clock::now();
          eg.reset();
          g.reset();
          const double teardown_s = seconds_since(t0);
          best.build_s = std::min(best.build_s, build_s);
          best.exec_graph_s = std::min(best.exec_graph_s, exec_graph_s);
          best.run_s = std::min(best.run_s, run_s);
          best.compute_s = std::min(best.compute_s, exec_graph_s + run_s);
          best.teardown_s = std::min(best.teardown_s, teardown_s);
        }
        rows.push_back(best);
        std::fprintf(stderr, ".");
      }
    }
  }
  std::fprintf(stderr, "\n");

  std::printf("\nper-task overhead (best of %d; us/task = seconds / tasks * 1e6)\n", reps);
  std::printf("(compute = exec_graph + run: what tessera::compute() costs after the graph is built)\n");
  std::printf("%-14s %9s %10s %-10s %10s %10s %10s %10s %10s %12s\n", "graph", "leaves", "tasks",
              "scheduler", "build", "exec_graph", "run", "compute", "total", "total[s]");
  for (const auto& r : rows) {
    const double per = 1e6 / static_cast<double>(r.tasks);
    std::printf("%-14s %9zu %10zu %-10s %10.3f %10.3f %10.3f %10.3f %10.3f %12.3f\n", r.shape.c_str(),
                r.n, r.tasks, r.scheduler.c_str(), r.build_s * per, r.exec_graph_s * per,
                r.run_s * per, r.compute_s * per, (r.build_s + r.compute_s) * per,
                r.build_s + r.compute_s);
  }

  // compute-parts: CPU-bound tasks, 1 vs 2 threads.
  struct PartsRow {
    std::string scheduler;
    double seconds;
  };
  std::vector<PartsRow> parts_rows;
  const std::int64_t expected_parts = part_size * (part_size - 1) / 2;
  for (const auto& runner : all) {
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
      std::vector<tessera::Delayed<std::int64_t>> out;
      for (std::int64_t k = 0; k < parts; ++k) {
        out.push_back(tessera::delayed(compute_part, {.name = "computePart"})(part_size * k / parts,
                                                                              part_size * (k + 1) / parts));
      }
      auto total = tessera::delayed(sum8, {.name = "sum"})(out);
      const auto t0 = Clock::now();
      const auto eg = tessera::ExecGraph::build(std::vector<tessera::detail::NodePtr>{total.node()});
      const auto values = runner.run(eg);
      best = std::min(best, seconds_since(t0));
      if (sum_values(values) != expected_parts) {
        std::fprintf(stderr, "bm_delayed: wrong compute-parts result from %s\n", runner.name.c_str());
        return 1;
      }
    }
    parts_rows.push_back({runner.name, best});
  }
  std::printf("\ncompute-parts: size=%lld parts=%lld (best of %d)\n", static_cast<long long>(part_size),
              static_cast<long long>(parts), reps);
  std::printf("%-10s %10s %10s\n", "scheduler", "seconds", "speed-up");
  const double base = parts_rows.front().seconds;  // sync
  for (const auto& p : parts_rows) std::printf("%-10s %10.3f %10.2f\n", p.scheduler.c_str(), p.seconds, base / p.seconds);

  std::printf("\n");
  for (const auto& r : rows) {
    const double per = 1e6 / static_cast<double>(r.tasks);
    std::printf("{\"bench\":\"delayed\",\"graph\":\"%s\",\"leaves\":%zu,\"tasks\":%zu,\"scheduler\":\"%s\","
                "\"build_s\":%.6f,\"exec_graph_s\":%.6f,\"run_s\":%.6f,\"compute_s\":%.6f,\"teardown_s\":%.6f,"
                "\"build_us_per_task\":%.4f,\"compute_us_per_task\":%.4f}\n",
                r.shape.c_str(), r.n, r.tasks, r.scheduler.c_str(), r.build_s, r.exec_graph_s,
                r.run_s, r.compute_s, r.teardown_s, r.build_s * per, r.compute_s * per);
  }
  for (const auto& p : parts_rows) {
    std::printf("{\"bench\":\"compute-parts\",\"size\":%lld,\"parts\":%lld,\"scheduler\":\"%s\","
                "\"seconds\":%.6f,\"speedup_vs_sync\":%.4f}\n",
                static_cast<long long>(part_size), static_cast<long long>(parts), p.scheduler.c_str(),
                p.seconds, base / p.seconds);
  }
  return 0;
}
