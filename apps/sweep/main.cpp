// tessera-sweep: futures on a real workload. Fits the stiffness k and damping c of a damped
// oscillator to a target trajectory by an adaptive parameter sweep: a first grid of candidates
// is submitted at once; every time a candidate finishes, two new ones are submitted around the
// best fit so far (new work depends on finished work, which is what futures are for).
//
//   tessera-sweep [--scheduler threads|sync|mpi] [--threads N] [--budget N] [--steps N]
//   TESSERA_TRACE=sweep.json tessera-sweep ...    # Chrome trace: open in https://ui.perfetto.dev
//
// Prints `best k=<k> c=<c> error=<e>`, the number of evaluations and the time taken.
#include <tessera/futures/client.hpp>
#include <tessera/tessera.hpp>
#if __has_include(<tessera/scheduling/mpi.hpp>) && TESSERA_SWEEP_HAVE_MPI
#include <tessera/scheduling/mpi.hpp>
#endif

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>

namespace {

struct Fit {
  double k = 0, c = 0, error = 0;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar& k& c& error;
  }
};

// Integrates x'' = -k x - c x' with RK4 and returns the squared distance to the trajectory of
// the true parameters (k=2.5, c=0.3), sampled every 100 steps. CPU-bound: `steps` RK4 steps.
Fit simulate(double k, double c, long steps) {
  auto run = [steps](double kk, double cc, std::vector<double>& samples) {
    double x = 1.0, v = 0.0;
    const double dt = 20.0 / static_cast<double>(steps);
    for (long i = 0; i < steps; ++i) {
      auto acc = [&](double px, double pv) { return -kk * px - cc * pv; };
      const double k1x = v, k1v = acc(x, v);
      const double k2x = v + 0.5 * dt * k1v, k2v = acc(x + 0.5 * dt * k1x, v + 0.5 * dt * k1v);
      const double k3x = v + 0.5 * dt * k2v, k3v = acc(x + 0.5 * dt * k2x, v + 0.5 * dt * k2v);
      const double k4x = v + dt * k3v, k4v = acc(x + dt * k3x, v + dt * k3v);
      x += dt / 6 * (k1x + 2 * k2x + 2 * k3x + k4x);
      v += dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
      if (i % 100 == 0) samples.push_back(x);
    }
  };
  std::vector<double> want, got;
  run(2.5, 0.3, want);
  run(k, c, got);
  double err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) err += (want[i] - got[i]) * (want[i] - got[i]);
  return Fit{k, c, err / static_cast<double>(want.size())};
}

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) throw std::invalid_argument("expected --flag value, got '" + k + "'");
    flags[k.substr(2)] = argv[i + 1];
  }
  if (argc % 2 == 0) throw std::invalid_argument(std::string("flag '") + argv[argc - 1] + "' has no value");
  return flags;
}

int sweep(const std::map<std::string, std::string>& flags, std::shared_ptr<tessera::Scheduler> sched) {
  auto get = [&](const char* k, long d) { return flags.count(k) ? std::stol(flags.at(k)) : d; };
  const long budget = get("budget", 64);
  const long steps = get("steps", 200'000);
  const auto t0 = std::chrono::steady_clock::now();
  tessera::Client client(std::move(sched));
  std::mt19937_64 rng(7);
  std::vector<tessera::Future<Fit>> live;
  long submitted = 0;
  auto submit = [&](double k, double c) {
    live.push_back(client.submit_with({.name = "simulate"}, simulate, std::max(0.01, k), std::max(0.0, c), steps));
    ++submitted;
  };
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) submit(0.5 + 1.2 * i, 0.05 + 0.25 * j);
  }
  Fit best{0, 0, INFINITY};
  long evaluated = 0;
  while (!live.empty()) {
    tessera::AsCompleted<Fit> ac(live);
    auto done = *ac.next();
    live.erase(std::find_if(live.begin(), live.end(), [&](const auto& f) { return f.key() == done.key(); }));
    const Fit fit = done.result();
    ++evaluated;
    if (fit.error < best.error) best = fit;
    // Refine around the best fit so far while budget remains. Results arrive in completion order,
    // so the best so far may be a poor early point: the steps shrink with the number of results,
    // and c is explored on the same scale as k (the grid's c spacing is 0.25), so a search that
    // started near a local minimum (k=2.68, c=0.54) still leaves it.
    const double scale = 1.0 / std::sqrt(static_cast<double>(evaluated));
    std::normal_distribution<double> jitter(0.0, scale);
    for (int n = 0; n < 2 && submitted < budget; ++n) submit(best.k + jitter(rng), best.c + 0.5 * jitter(rng));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("best k=%.4f c=%.4f error=%.3g\n", best.k, best.c, best.error);
  std::printf("evaluations=%ld time=%.3fs (%.1f evaluations/s)\n", evaluated, secs, evaluated / secs);
  return best.error < 1e-2 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto flags = parse(argc, argv);
    const std::string name = flags.count("scheduler") ? flags.at("scheduler") : "threads";
    const unsigned threads = flags.count("threads") ? static_cast<unsigned>(std::stoul(flags.at("threads"))) : 0;
    if (name == "mpi") {
#if TESSERA_SWEEP_HAVE_MPI
      tessera::RuntimeOptions opts;
      opts.threads_per_worker = threads;
      return tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) { return sweep(flags, rt.scheduler()); }, opts);
#else
      throw std::invalid_argument("this build has no MPI support");
#endif
    }
    return sweep(flags, tessera::make_scheduler(name, threads));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera-sweep: %s\n", e.what());
    return 2;
  }
}
