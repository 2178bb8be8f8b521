// tessera_numpy_oracle CASES_FILE sync|threads|mpi
//
// Runs every case of a file written by numpy_oracle.py (NumPy's answers, computed at test time)
// on tessera's lazy arrays, chunked as the file says, on one scheduler, and compares shape,
// dtype and values: integers and bools exactly; float64 to 1e-12 relative (1e-14 absolute near
// zero); float32 to 4 ULP; NaN where NumPy has NaN. A case NumPy raises for must throw in
// tessera (when built or computed). Prints a summary line and every failure; exit status 1 if
// any case fails. Under "mpi" run it with mpiexec: rank 0 drives, the other ranks serve tasks.
// sync computes case by case (tessera::compute of each Array); threads and mpi compute batches
// of 64 / 256 cases as one graph (a compute under MPI is a round trip), and a batch in which a
// task fails is rerun case by case.
//
// Case file, one record per line:
//   case NAME
//   op KIND [ARGS]                                   (see build() below)
//   in DTYPE NDIM DIM... CHUNK... VALUE...           an array operand, its chunk shape
//   sc i INT | sc f HEXFLOAT                         a Python-style scalar operand
//   want DTYPE NDIM DIM... VALUE... | want error
//   end
#include <tessera/collections/array/array.hpp>
#if TESSERA_ORACLE_MPI
#include <tessera/scheduling/mpi.hpp>
#endif
#include <tessera/scheduling/sync.hpp>
#include <tessera/scheduling/threads.hpp>
#include <tessera/tessera.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace {

using tessera::Array;
using tessera::DType;
using tessera::NDArray;
using tessera::Scalar;
using tessera::Shape;

struct Operand {
  std::optional<NDArray> array;  // else a scalar
  Shape chunk_shape;
  std::optional<Scalar> scalar;
};

struct Case {
  std::string name;
  std::vector<std::string> op;  // kind, args...
  std::vector<Operand> operands;
  std::optional<NDArray> want;  // nullopt: NumPy raised
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

// Reads "DTYPE NDIM DIM... [CHUNK...] VALUE..." from `in`.
NDArray read_array(std::istringstream& in, Shape* chunk_shape) {
  std::string dt;
  int nd = 0;
  in >> dt >> nd;
  const DType t = tessera::dtype_from_name(dt);
  Shape shape(static_cast<std::size_t>(nd));
  for (auto& d : shape) in >> d;
  if (chunk_shape) {
    chunk_shape->resize(static_cast<std::size_t>(nd));
    for (auto& d : *chunk_shape) in >> d;
  }
  NDArray a = NDArray::empty(shape, t);
  std::byte* p = a.mutable_bytes();
  std::string tok;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    in >> tok;
    tessera::visit_dtype(t, [&](auto z) {
      using T = decltype(z);
      T v;
      if constexpr (std::is_floating_point_v<T>) v = static_cast<T>(std::strtod(tok.c_str(), nullptr));
      else if constexpr (std::is_same_v<T, bool>) v = tok != "0";
      else v = static_cast<T>(std::strtoll(tok.c_str(), nullptr, 10));
      std::memcpy(p + static_cast<std::size_t>(i) * sizeof(T), &v, sizeof(T));
    });
  }
  return a;
}

std::vector<Case> read_cases(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::vector<Case> cases;
  std::string line;
  Case c;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    if (tag == "case") {
      c = Case{};
      in >> c.name;
    } else if (tag == "op") {
      std::string w;
      while (in >> w) c.op.push_back(w);
    } else if (tag == "in") {
      Operand o;
      o.array = read_array(in, &o.chunk_shape);
      c.operands.push_back(std::move(o));
    } else if (tag == "sc") {
      std::string kind, v;
      in >> kind >> v;
      Operand o;
      if (kind == "f") o.scalar = Scalar(std::strtod(v.c_str(), nullptr));
      else o.scalar = Scalar(static_cast<std::int64_t>(std::strtoll(v.c_str(), nullptr, 10)));
      c.operands.push_back(std::move(o));
    } else if (tag == "want") {
      if (line.find("want error") == 0) c.want.reset();
      else c.want = read_array(in, nullptr);
    } else if (tag == "end") {
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

std::map<std::string, std::string> kwargs(const std::vector<std::string>& op) {
  std::map<std::string, std::string> kw;
  for (std::size_t i = 2; i < op.size(); ++i) {
    const auto eq = op[i].find('=');
    if (eq != std::string::npos) kw[op[i].substr(0, eq)] = op[i].substr(eq + 1);
  }
  return kw;
}

std::vector<std::int64_t> ints(const std::string& s) {
  std::vector<std::int64_t> v;
  for (const auto& t : split(s, ',')) v.push_back(std::stoll(t));
  return v;
}

template <class E>
E find_enum(std::string_view name, int n) {
  for (int i = 0; i < n; ++i) {
    if (tessera::op_name(static_cast<E>(i)) == name) return static_cast<E>(i);
  }
  throw std::runtime_error("oracle: unknown operation " + std::string(name));
}

// The tessera expression for a case (throws what tessera throws at build time).
Array build(const Case& c) {
  std::vector<Array> arrays;
  for (const auto& o : c.operands) {
    if (o.array) arrays.push_back(tessera::array::from_ndarray(*o.array, o.chunk_shape));
  }
  const std::string& kind = c.op.at(0);
  const auto kw = kwargs(c.op);
  if (kind == "unary") return tessera::apply(find_enum<tessera::UnaryOp>(c.op.at(1), 12), arrays.at(0));
  if (kind == "binary") {
    const auto op = find_enum<tessera::BinaryOp>(c.op.at(1), 17);
    const Operand& a = c.operands.at(0);
    const Operand& b = c.operands.at(1);
    if (a.array && b.array) return tessera::apply(op, arrays.at(0), arrays.at(1));
    if (a.array) return tessera::apply(op, arrays.at(0), *b.scalar);
    return tessera::apply(op, *a.scalar, arrays.at(0));
  }
  if (kind == "reduce") {
    const std::string& name = c.op.at(1);
    const Array& x = arrays.at(0);
    if (name == "argmin" || name == "argmax") {
      std::optional<int> axis;
      if (kw.at("axis") != "none") axis = std::stoi(kw.at("axis"));
      return name == "argmin" ? x.argmin(axis) : x.argmax(axis);
    }
    std::vector<int> axes;
    if (kw.at("axes") != "none") {
      for (auto v : ints(kw.at("axes"))) axes.push_back(static_cast<int>(v));
    }
    tessera::ReduceOptions o;
    o.keepdims = kw.at("keepdims") == "1";
    const double ddof = kw.count("ddof") ? std::stod(kw.at("ddof")) : 0.0;
    // axes {} means all axes in tessera, None in NumPy; an explicit empty tuple is not generated.
    if (name == "sum") return x.sum(axes, o);
    if (name == "prod") return x.prod(axes, o);
    if (name == "min") return x.min(axes, o);
    if (name == "max") return x.max(axes, o);
    if (name == "any") return x.any(axes, o);
    if (name == "all") return x.all(axes, o);
    if (name == "count_nonzero") return x.count_nonzero(axes, o);
    if (name == "mean") return x.mean(axes, o);
    if (name == "var") return x.var(axes, ddof, o);
    if (name == "std") return x.std(axes, ddof, o);
    throw std::runtime_error("oracle: unknown reduction " + name);
  }
  if (kind == "slice") {
    std::vector<tessera::Slice> sl;
    for (const auto& part : split(c.op.at(1), ',')) {
      tessera::Slice s;
      if (part.find(':') == std::string::npos) {
        const std::int64_t p = std::stoll(part);
        s.start = p;
        if (p != -1) s.stop = p + 1;
      } else {
        auto bits = split(part, ':');
        bits.resize(3);
        if (!bits[0].empty()) s.start = std::stoll(bits[0]);
        if (!bits[1].empty()) s.stop = std::stoll(bits[1]);
        if (!bits[2].empty()) s.step = std::stoll(bits[2]);
      }
      sl.push_back(s);
    }
    return arrays.at(0).slice(sl);
  }
  if (kind == "reshape") return arrays.at(0).reshape(ints(c.op.at(1)));
  if (kind == "transpose") {
    std::vector<int> axes;
    if (c.op.at(1) != "none") {
      for (auto v : ints(c.op.at(1))) axes.push_back(static_cast<int>(v));
    }
    return arrays.at(0).transpose(axes);
  }
  if (kind == "rechunk") return arrays.at(0).rechunk(Shape(ints(c.op.at(1))));
  if (kind == "concatenate") return tessera::concatenate(arrays, std::stoi(c.op.at(1)));
  if (kind == "stack") return tessera::stack(arrays, std::stoi(c.op.at(1)));
  if (kind == "where") {
    if (arrays.size() == 3) return tessera::where(arrays[0], arrays[1], arrays[2]);
    return tessera::where(arrays.at(0), *c.operands.at(1).scalar, *c.operands.at(2).scalar);
  }
  if (kind == "clip") return tessera::clip(arrays.at(0), *c.operands.at(1).scalar, *c.operands.at(2).scalar);
  if (kind == "astype") return arrays.at(0).astype(tessera::dtype_from_name(c.op.at(1)));
  if (kind == "matmul") return tessera::matmul(arrays.at(0), arrays.at(1));
  throw std::runtime_error("oracle: unknown kind " + kind);
}

std::int64_t ulp_distance(float a, float b) {
  std::int32_t ia = 0, ib = 0;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  // map to a monotonic integer line
  const std::int64_t la = ia < 0 ? std::int64_t{INT32_MIN} - ia : ia;
  const std::int64_t lb = ib < 0 ? std::int64_t{INT32_MIN} - ib : ib;
  return std::llabs(la - lb);
}

// Empty string: equal; else what differs.
std::string compare(const NDArray& got, const NDArray& want) {
  std::ostringstream why;
  if (got.dtype() != want.dtype()) {
    why << "dtype " << got.dtype() << ", NumPy " << want.dtype();
    return why.str();
  }
  if (got.shape() != want.shape()) {
    why << "shape " << tessera::to_string(got.shape()) << ", NumPy " << tessera::to_string(want.shape());
    return why.str();
  }
  for (std::int64_t i = 0; i < got.size(); ++i) {
    bool ok = true;
    const auto k = static_cast<std::size_t>(i);
    switch (got.dtype()) {
      case DType::float64: {
        const double a = got.data<double>()[k], b = want.data<double>()[k];
        if (std::isnan(a) || std::isnan(b)) ok = std::isnan(a) && std::isnan(b);
        else if (std::isinf(a) || std::isinf(b)) ok = a == b;
        else ok = std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b)) || std::fabs(a - b) <= 1e-14;
        break;
      }
      case DType::float32: {
        const float a = got.data<float>()[k], b = want.data<float>()[k];
        if (std::isnan(a) || std::isnan(b)) ok = std::isnan(a) && std::isnan(b);
        else ok = a == b || ulp_distance(a, b) <= 4;
        break;
      }
      case DType::int64: ok = got.data<std::int64_t>()[k] == want.data<std::int64_t>()[k]; break;
      case DType::int32: ok = got.data<std::int32_t>()[k] == want.data<std::int32_t>()[k]; break;
      case DType::uint8: ok = got.data<std::uint8_t>()[k] == want.data<std::uint8_t>()[k]; break;
      case DType::bool_: ok = got.data<bool>()[k] == want.data<bool>()[k]; break;
    }
    if (!ok) {
      why.precision(17);
      why << "element " << i << ": " << got.value_as_double(i) << ", NumPy " << want.value_as_double(i);
      return why.str();
    }
  }
  return {};
}

// The whole array from its computed blocks (C order over the block grid), as compute() does.
NDArray assemble(const Array& a, const std::vector<NDArray>& blocks) {
  if (blocks.size() == 1) return blocks[0];
  NDArray out = NDArray::empty(a.shape(), a.dtype());
  if (a.size() == 0) return out;
  const auto& ch = a.chunks();
  Shape idx(ch.size(), 0);
  for (const NDArray& b : blocks) {
    std::vector<std::int64_t> off(ch.size(), 0);
    for (std::size_t d = 0; d < ch.size(); ++d) {
      for (std::int64_t k = 0; k < idx[d]; ++k) off[d] += ch[d][static_cast<std::size_t>(k)];
    }
    if (b.size() > 0) tessera::copy_into(out, off, b);
    for (std::size_t d = ch.size(); d-- > 0;) {
      if (++idx[d] < static_cast<std::int64_t>(ch[d].size())) break;
      idx[d] = 0;
    }
  }
  return out;
}

// Runs the cases in batches of up to `batch` arrays per compute() (one graph: a compute costs
// a round trip under MPI); a batch in which a task fails is rerun case by case.
int run_all(const std::vector<Case>& cases, tessera::Scheduler& s, const std::string& mode, std::size_t batch) {
  int failed = 0, raised_both = 0;
  std::set<std::string> ops;
  std::set<DType> dtypes;
  std::vector<std::string> problems(cases.size());
  std::vector<std::optional<Array>> built(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    ops.insert(c.op.at(0) + (c.op.size() > 1 && (c.op[0] == "unary" || c.op[0] == "binary" || c.op[0] == "reduce") ? "." + c.op[1] : ""));
    for (const auto& o : c.operands) {
      if (o.array) dtypes.insert(o.array->dtype());
    }
    try {
      built[i] = build(c);
    } catch (const std::exception& e) {
      if (c.want) problems[i] = std::string("tessera raised when built: ") + e.what();
      else ++raised_both;
    }
  }
  auto check = [&](std::size_t i, const NDArray& got) {
    const Case& c = cases[i];
    if (!c.want) {
      problems[i] = "NumPy raises; tessera gave " + std::string(tessera::dtype_name(got.dtype())) +
                    tessera::to_string(got.shape());
    } else {
      problems[i] = compare(got, *c.want);
    }
  };
  auto one_by_one = [&](std::size_t i) {
    try {
      check(i, tessera::compute(*built[i], s));
    } catch (const std::exception& e) {
      if (cases[i].want) problems[i] = std::string("tessera raised: ") + e.what();
      else ++raised_both;
    }
  };
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (built[i]) todo.push_back(i);
  }
  for (std::size_t b0 = 0; b0 < todo.size(); b0 += batch) {
    const std::size_t b1 = std::min(todo.size(), b0 + batch);
    // Equal blocks (equal keys: the same literal chunk in two cases) are computed once.
    std::vector<tessera::Delayed<NDArray>> blocks;
    std::map<std::string, std::size_t> slot_of;
    std::vector<std::size_t> slots, first;
    for (std::size_t k = b0; k < b1; ++k) {
      first.push_back(slots.size());
      for (auto& d : built[todo[k]]->blocks()) {
        const auto [it, fresh] = slot_of.emplace(d.key(), blocks.size());
        if (fresh) blocks.push_back(d);
        slots.push_back(it->second);
      }
    }
    first.push_back(slots.size());
    std::vector<NDArray> unique_values, values;
    try {
      unique_values = tessera::compute(blocks, s);
    } catch (const std::exception&) {
      for (std::size_t k = b0; k < b1; ++k) one_by_one(todo[k]);
      continue;
    }
    for (auto slot : slots) values.push_back(unique_values[slot]);
    for (std::size_t k = b0; k < b1; ++k) {
      const std::vector<NDArray> mine(values.begin() + static_cast<std::ptrdiff_t>(first[k - b0]),
                                      values.begin() + static_cast<std::ptrdiff_t>(first[k - b0 + 1]));
      check(todo[k], assemble(*built[todo[k]], mine));
    }
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (problems[i].empty()) continue;
    if (failed < 200) std::cout << "FAIL " << cases[i].name << " [" << mode << "]: " << problems[i] << "\n";
    ++failed;
  }
  std::cout << "numpy oracle [" << mode << "]: " << cases.size() << " cases (" << ops.size() << " operations x "
            << dtypes.size() << " dtypes), " << cases.size() - static_cast<std::size_t>(failed) << " passed ("
            << raised_both << " raise in both), " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tessera_numpy_oracle CASES_FILE sync|threads|mpi\n";
    return 2;
  }
  const std::string path = argv[1], mode = argv[2];
  // Optional third argument: run only the first N cases (the MPI tests, see CMakeLists.txt).
  const std::size_t limit = argc > 3 ? static_cast<std::size_t>(std::stoul(argv[3])) : SIZE_MAX;
  auto load = [&] {
    auto c = read_cases(path);
    if (c.size() > limit) c.resize(limit);
    return c;
  };
#if TESSERA_ORACLE_MPI
  if (mode == "mpi") {
    return tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) {
      const auto cases = load();
      return run_all(cases, *rt.scheduler(), mode, 256);
    });
  }
#endif
  const auto cases = load();
  if (mode == "sync") {
    tessera::SyncScheduler s;
    return run_all(cases, s, mode, 1);
  }
  tessera::ThreadScheduler s(tessera::ThreadScheduler::Options{3});
  return run_all(cases, s, mode, 64);
}
