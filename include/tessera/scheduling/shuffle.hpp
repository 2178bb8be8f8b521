#pragma once

/// @file
/// tessera::shuffle: the all-to-all exchange that groupby, merge, sort and rechunk are built on.
/// N input partitions are each split into M pieces (one per output partition); output j is
/// combined from the N pieces meant for it. The pieces travel through a shuffle
/// service, never through task results, so the graph stays O(N + M) tasks:
///
///   N transfer tasks  (split input i, hand each piece to the service)
///   1 barrier task    (every piece is stored)
///   M unpack tasks    (collect the N pieces of output j, combine them)
///
/// @code
/// using Records = std::vector<std::pair<std::uint64_t, double>>;
/// std::vector<tessera::Delayed<Records>> parts = ...;              // N partitions
/// // By hash of a key, into 8 outputs, concatenated:
/// auto by_key = tessera::hash_shuffle(parts, 8, [](const auto& r) { return r.first; });
/// // The general form: any split (here by range) and any combine.
/// auto split = [](const Records& p, std::size_t m) {
///   std::vector<Records> out(m);
///   for (const auto& r : p) out[std::min<std::size_t>(r.first / 1000, m - 1)].push_back(r);
///   return out; };
/// auto sorted = tessera::shuffle(parts, 4, split, [](std::vector<Records>&& pieces) {
///   Records all = tessera::Concatenate{}(std::move(pieces));
///   std::sort(all.begin(), all.end());
///   return all; }, {.name = "sort"});
/// std::vector<Records> out = tessera::compute(sorted);              // M partitions
/// @endcode
///
/// On the sync and threads schedulers the pieces stay in this process, in local_result_store()
/// under TESSERA_MEMORY_LIMIT (spilled to HDF5 past it, read back by the unpack tasks).
/// Pieces of output j are dropped once unpack j has read them; the pieces of every shuffle a
/// run touched are dropped when the run ends (failed, cancelled, or with outputs culled).
///
/// On MPI each worker runs a shuffle service: a transfer task sends the pieces of output j
/// straight to the owner of j (worker 1 + j % workers, where unpack task j is placed; see
/// DelayedOptions::worker_hint), worker to worker, never through rank 0, and completes when the
/// owners acknowledged storing them. Owners keep pieces under the worker's memory limit and
/// spill them to the worker's spill directory. At one rank the threaded fallback shuffles in
/// process. A run's summary (TESSERA_SUMMARY) lists each rank's shuffle traffic.
///
/// Retries (TESSERA_TASK_RETRIES): a retried transfer replaces the pieces it stored before. An
/// unpack task consumes its pieces (they move into combine's argument), so a combine that throws
/// fails the run even with retries; the run's end drops the remaining pieces.
///
/// Callables travel as delayed's do: function pointers, capture-less lambdas, and lambdas or
/// function objects whose state is trivially copyable or serializable may run on other ranks.

#include <tessera/core/buffer_pool.hpp>
#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/storage/process_memory.hpp>
#include <tessera/storage/working_memory.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <functional>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tessera {

/// Options of tessera::shuffle.
struct ShuffleOptions {
  /// Names the shuffle in task keys ("<name>-transfer-...", "-barrier-", "-unpack-") and errors.
  std::string name = "shuffle";
};

/// split(const P& partition, std::size_t n_out) -> std::vector<P> of n_out pieces.
template <class S, class P>
concept ShuffleSplit = std::is_invocable_r_v<std::vector<P>, const S&, const P&, std::size_t>;
/// combine(std::vector<P>&& pieces) -> P, the pieces in input order.
template <class C, class P>
concept ShuffleCombine = std::is_invocable_r_v<P, const C&, std::vector<P>&&>;

struct Concatenate;
template <class KeyOf>
struct HashPartition;

namespace detail {

template <class S>
struct is_hash_partition : std::false_type {};
template <class KeyOf>
struct is_hash_partition<HashPartition<KeyOf>> : std::true_type {};

/// HashPartition's split of a vector of bitwise records, written straight into serialized
/// pieces (defined below, after shuffle_hash).
template <class T, class A, class KeyOf>
std::vector<Value> hash_split_serialized(const HashPartition<KeyOf>& split, const std::vector<T, A>& part,
                                         std::size_t n_out);

template <class P>
struct is_bitwise_vector : std::false_type {};
template <class T, class A>
struct is_bitwise_vector<std::vector<T, A>> : std::bool_constant<RawLayout<T>> {};

/// A piece as the service keeps it. The member is mutable so that the unpack task, the
/// piece's only owner once the service forgot it, can move it out of its (const) Value.
/// (Not trivially copyable on purpose: it travels through the Codec below, which forwards to
/// P's, whatever P is.)
template <class P>
struct ShufflePiece {
  mutable P value;

  explicit ShufflePiece(P v) : value(std::move(v)) {}
  ShufflePiece(const ShufflePiece&) = default;
  ShufflePiece(ShufflePiece&&) noexcept = default;
  ShufflePiece& operator=(const ShufflePiece&) = default;
  ShufflePiece& operator=(ShufflePiece&&) noexcept = default;
  ~ShufflePiece() {}  // NOLINT(modernize-use-equals-default): keeps the type non-trivial
  [[nodiscard]] std::size_t nbytes() const noexcept { return nbytes_of(value); }
};

}  // namespace detail

/// A piece travels (and spills) in P's serialized form.
template <class P>
struct Codec<detail::ShufflePiece<P>> {
  static void write(ByteWriter& w, const detail::ShufflePiece<P>& p) { Codec<P>::write(w, p.value); }
  static detail::ShufflePiece<P> read(ByteReader& r) { return detail::ShufflePiece<P>(Codec<P>::read(r)); }
};

namespace detail {

/// Runs f, turning any exception into a ShuffleError that names the shuffle, the step, the
/// partition and the rank.
template <class F>
decltype(auto) shuffle_step(const ShuffleSpec& spec, const std::string& name, const char* step,
                            const char* partition, std::uint32_t index, std::uint32_t count, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const ShuffleError&) {
    throw;
  } catch (const std::exception& e) {
    TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": ", step, " of ", partition, " partition ",
                  index, " of ", count, " failed on rank ", shuffle_service().rank(), ": ",
                  current_exception_type(), ": ", e.what());
  }
}

/// The transfer task's callable: splits input i and hands the pieces to the service.
/// (User callables live inside task callables: these carry them as delayed carries its own,
/// function pointers as code references, through the Codecs below; they are not trivially
/// copyable on purpose, so that no function pointer inside travels as a raw address.)
template <class P, class Split>
struct TransferTask {
  Split split;
  explicit TransferTask(Split s) : split(std::move(s)) {}
  TransferTask(const TransferTask&) = default;
  TransferTask(TransferTask&&) noexcept = default;
  TransferTask& operator=(const TransferTask&) = default;
  TransferTask& operator=(TransferTask&&) noexcept = default;
  ~TransferTask() {}  // NOLINT(modernize-use-equals-default): keeps the type non-trivial

  ShuffleReceipt operator()(const P& input, const ShuffleSpec& spec, const std::uint32_t& i,
                            const std::string& name) const {
    // The pieces (about the input's size) are working memory until the owners stored them:
    // charged before the split allocates them, so the worker spills first.
    MemoryCharge charge = charge_working_memory(nbytes_of(input));
    if constexpr (is_hash_partition<Split>::value && is_bitwise_vector<P>::value) {
      // Records by hash: counted, then copied once into recycled buffers in their wire form.
      auto values = shuffle_step(spec, name, "split", "input", i, spec.n_in, [&] {
        return hash_split_serialized(split, input, static_cast<std::size_t>(spec.n_out));
      });
      ShuffleReceipt receipt{values.size(), 0};
      for (const auto& v : values) receipt.bytes += v.nbytes();
      shuffle_service().put(spec, name, i, std::move(values));
      return receipt;
    }
    auto pieces = shuffle_step(spec, name, "split", "input", i, spec.n_in, [&] {
      return std::invoke(split, input, static_cast<std::size_t>(spec.n_out));
    });
    if (pieces.size() != spec.n_out) {
      TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": split of input partition ", i, " of ",
                    spec.n_in, " returned ", pieces.size(), " pieces for ", spec.n_out, " outputs");
    }
    ShuffleReceipt receipt;
    std::vector<Value> values;
    values.reserve(pieces.size());
    for (auto& p : pieces) {
      values.push_back(Value::of(ShufflePiece<P>{std::move(p)}));
      receipt.bytes += values.back().nbytes();
    }
    receipt.pieces = values.size();
    shuffle_service().put(spec, name, i, std::move(values));
    return receipt;
  }
};

inline ShuffleReceipt shuffle_barrier(const std::vector<ShuffleReceipt>& receipts) {
  ShuffleReceipt total;
  for (const auto& r : receipts) {
    total.pieces += r.pieces;
    total.bytes += r.bytes;
  }
  return total;
}

/// Concatenates vectors of bitwise records straight from their pieces: serialized pieces (the
/// vector's count, then its elements) are copied once, into the output, not decoded first
/// (appended, not zero-filled first); a live piece that is the only non-empty one becomes the
/// output (moved: the service forgot it, the Value is its only owner).
template <class P>
P concatenate_bitwise(std::vector<Value>& taken, MemoryCharge& charge) {
  using T = typename P::value_type;
  std::vector<std::span<const T>> parts;
  std::vector<std::shared_ptr<const Bytes>> held;
  parts.reserve(taken.size());
  std::size_t n = 0;
  for (const auto& v : taken) {
    if (v.is_serialized()) {
      auto bytes = v.bytes();
      ByteReader r(*bytes);
      const auto count = r.pod<std::uint64_t>();
      if (count > r.remaining() / sizeof(T)) {
        TESSERA_THROW(SerializationError, "a shuffle piece claims ", count, " records but holds ", r.remaining(), " bytes");
      }
      const auto body = r.take(count * sizeof(T));
      parts.emplace_back(reinterpret_cast<const T*>(body.data()), count);
      held.push_back(std::move(bytes));
    } else {
      const auto& piece = v.get<ShufflePiece<P>>().value;
      parts.emplace_back(piece.data(), piece.size());
    }
    n += parts.back().size();
  }
  std::size_t nonempty = 0, last = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (!parts[k].empty()) {
      ++nonempty;
      last = k;
    }
  }
  if (nonempty == 1 && !taken[last].is_serialized()) {
    P out = std::move(taken[last].get<ShufflePiece<P>>().value);
    taken.clear();
    return out;
  }
  charge.add(n * sizeof(T));  // the output, before it is allocated
  P out;
  out.reserve(n);
  advise_huge_pages(out.data(), n * sizeof(T));  // fresh: fault it in 2 MiB at a time
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  taken.clear();
  return out;
}

/// The unpack task's callable: takes the pieces of output j from the service, combines them.
template <class P, class Combine>
struct UnpackTask {
  Combine combine;
  explicit UnpackTask(Combine c) : combine(std::move(c)) {}
  UnpackTask(const UnpackTask&) = default;
  UnpackTask(UnpackTask&&) noexcept = default;
  UnpackTask& operator=(const UnpackTask&) = default;
  UnpackTask& operator=(UnpackTask&&) noexcept = default;
  ~UnpackTask() {}  // NOLINT(modernize-use-equals-default): keeps the type non-trivial

  P operator()(const ShuffleReceipt& /*barrier*/, const ShuffleSpec& spec, const std::uint32_t& j,
               const std::string& name) const {
    // The pieces stay charged to the worker's memory limit while this task holds them (and
    // the output while it is built): the worker spills other results to make room first.
    auto [taken, charge] = shuffle_service().take(spec, name, j);
    if constexpr (std::is_same_v<Combine, Concatenate> && is_bitwise_vector<P>::value) {
      return concatenate_bitwise<P>(taken, charge);
    }
    // The combined output: about the pieces' size.
    charge.add(charge.bytes());
    std::vector<P> pieces;
    pieces.reserve(taken.size());
    for (auto& v : taken) {
      // The service forgot the piece: this Value is its only owner, so it may be moved from.
      Value live = v.decoded<ShufflePiece<P>>();
      v = Value{};
      pieces.push_back(std::move(live.get<ShufflePiece<P>>().value));
    }
    try {
      return shuffle_step(spec, name, "combine", "output", j, spec.n_out,
                          [&]() -> P { return std::invoke(combine, std::move(pieces)); });
    } catch (const ShuffleError& e) {
      shuffle_service().note_failed_output(spec, j, e.what());
      throw;
    }
  }
};

}  // namespace detail

template <class P, class Split>
  requires detail::callable_serializable<Split>
struct Codec<detail::TransferTask<P, Split>> {
  static void write(ByteWriter& w, const detail::TransferTask<P, Split>& t) { detail::write_callable(w, t.split); }
  static detail::TransferTask<P, Split> read(ByteReader& r) {
    return detail::TransferTask<P, Split>(detail::read_callable<Split>(r));
  }
};
template <class P, class Combine>
  requires detail::callable_serializable<Combine>
struct Codec<detail::UnpackTask<P, Combine>> {
  static void write(ByteWriter& w, const detail::UnpackTask<P, Combine>& t) { detail::write_callable(w, t.combine); }
  static detail::UnpackTask<P, Combine> read(ByteReader& r) {
    return detail::UnpackTask<P, Combine>(detail::read_callable<Combine>(r));
  }
};

/// Shuffles `inputs` (N partitions) into `n_out` partitions: output j is
/// combine({split(inputs[0], n_out)[j], ..., split(inputs[N-1], n_out)[j]}). Builds the graph
/// only (N transfer tasks, one barrier, n_out unpack tasks); nothing runs until compute().
///
/// Every piece a split returns reaches exactly one output, once, also when transfer tasks are
/// retried (a retried transfer replaces its pieces). Outputs are a function of the inputs alone,
/// identical on every scheduler.
/// Throws: GraphError if n_out is 0, an input handle is empty, or N or n_out exceed 2^32 - 1.
/// At run time the tasks throw ShuffleError (a failed split or combine, a split returning
/// other than n_out pieces, a missing piece) naming the shuffle, the partition and the rank.
/// Thread safety: any thread (builds a graph).
template <class P, class Split, class Combine>
  requires Serializable<P> && ShuffleSplit<Split, P> && ShuffleCombine<Combine, P>
std::vector<Delayed<P>> shuffle(const std::vector<Delayed<P>>& inputs, std::size_t n_out,
                                Split split, Combine combine, ShuffleOptions options = {}) {
  if (n_out == 0) TESSERA_THROW(GraphError, "shuffle '", options.name, "': zero output partitions");
  if (n_out > UINT32_MAX || inputs.size() > UINT32_MAX) {
    TESSERA_THROW(GraphError, "shuffle '", options.name, "': too many partitions");
  }
  const auto spec = detail::new_shuffle_spec(static_cast<std::uint32_t>(inputs.size()),
                                             static_cast<std::uint32_t>(n_out));
  const std::string& name = options.name;
  auto transfer = delayed(detail::TransferTask<P, Split>(std::move(split)), {.name = name + "-transfer"});
  std::vector<Delayed<detail::ShuffleReceipt>> receipts;
  receipts.reserve(inputs.size());
  for (std::uint32_t i = 0; i < spec.n_in; ++i) receipts.push_back(transfer(inputs[i], spec, i, name));
  auto barrier = delayed(&detail::shuffle_barrier, {.name = name + "-barrier"})(receipts);
  std::vector<Delayed<P>> out;
  out.reserve(n_out);
  for (std::uint32_t j = 0; j < spec.n_out; ++j) {
    // Unpack j runs where the service sent output j's pieces (MPI: worker 1 + j % workers).
    const auto hint = detail::shuffle_worker_hint(j);
    auto unpack = delayed(detail::UnpackTask<P, Combine>(combine), {.name = name + "-unpack", .worker_hint = hint});
    out.push_back(unpack(barrier, spec, j, name));
  }
  return out;
}

/// 64-bit mix of a key's std::hash (std::hash of integers is often the identity, which would
/// send consecutive keys to consecutive outputs); the same on every rank of one executable.
template <class K>
[[nodiscard]] std::uint64_t shuffle_hash(const K& key) noexcept {
  std::uint64_t x = static_cast<std::uint64_t>(std::hash<K>{}(key)) + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// A split for partitions that are std::vector<T>: record r goes to output
/// shuffle_hash(key_of(r)) % n_out, records keep their order within a piece.
template <class KeyOf>
struct HashPartition {
  KeyOf key_of;
  explicit HashPartition(KeyOf k) : key_of(std::move(k)) {}
  HashPartition(const HashPartition&) = default;
  HashPartition(HashPartition&&) noexcept = default;
  HashPartition& operator=(const HashPartition&) = default;
  HashPartition& operator=(HashPartition&&) noexcept = default;
  ~HashPartition() {}  // NOLINT(modernize-use-equals-default): not trivial, see TransferTask
  template <class T, class A>
  std::vector<std::vector<T, A>> operator()(const std::vector<T, A>& part, std::size_t n_out) const {
    // Two passes: each piece is allocated once, at its exact size.
    std::vector<std::uint32_t> dest(part.size());
    std::vector<std::size_t> counts(n_out, 0);
    for (std::size_t k = 0; k < part.size(); ++k) {
      dest[k] = static_cast<std::uint32_t>(shuffle_hash(std::invoke(key_of, part[k])) % n_out);
      ++counts[dest[k]];
    }
    std::vector<std::vector<T, A>> out(n_out);
    for (std::size_t j = 0; j < n_out; ++j) out[j].reserve(counts[j]);
    for (std::size_t k = 0; k < part.size(); ++k) out[dest[k]].push_back(part[k]);
    return out;
  }
};

namespace detail {

template <class T, class A, class KeyOf>
std::vector<Value> hash_split_serialized(const HashPartition<KeyOf>& split, const std::vector<T, A>& part,
                                         std::size_t n_out) {
  // Each record's output, in a per-thread buffer that is reused (no fresh pages per partition;
  // released after use once it is past a 32nd of the memory limit, or 64 MiB without one:
  // memory the worker's limit does not see).
  thread_local std::vector<std::uint32_t> dest;
  dest.resize(part.size());
  std::vector<std::size_t> counts(n_out, 0);
  for (std::size_t k = 0; k < part.size(); ++k) {
    dest[k] = static_cast<std::uint32_t>(shuffle_hash(std::invoke(split.key_of, part[k])) % n_out);
    ++counts[dest[k]];
  }
  // Each piece sized exactly (the vector codec's form: a uint64 count, then the records) and
  // filled once.
  std::vector<std::shared_ptr<Bytes>> buffers(n_out);
  std::vector<std::byte*> at(n_out);
  for (std::size_t j = 0; j < n_out; ++j) {
    buffers[j] = shuffle_buffer(sizeof(std::uint64_t) + counts[j] * sizeof(T));
    const auto count = static_cast<std::uint64_t>(counts[j]);
    std::memcpy(buffers[j]->data(), &count, sizeof count);
    at[j] = buffers[j]->data() + sizeof count;
  }
  for (std::size_t k = 0; k < part.size(); ++k) {
    std::memcpy(at[dest[k]], &part[k], sizeof(T));
    at[dest[k]] += sizeof(T);
  }
  // A 32nd of a memory limit (the pool's cap is 3/16 of it), at most 64 MiB.
  const std::uint64_t keep = std::min<std::uint64_t>(BufferPool::instance().capacity() / 6, std::uint64_t{64} << 20);
  if (dest.capacity() * sizeof(std::uint32_t) > keep) std::vector<std::uint32_t>().swap(dest);
  std::vector<Value> values;
  values.reserve(n_out);
  for (auto& b : buffers) values.push_back(Value::serialized(std::move(b)));
  return values;
}

}  // namespace detail

/// key_of travels as delayed's callables do (a function pointer as a code reference).
template <class KeyOf>
  requires detail::callable_serializable<KeyOf>
struct Codec<HashPartition<KeyOf>> {
  static void write(ByteWriter& w, const HashPartition<KeyOf>& h) { detail::write_callable(w, h.key_of); }
  static HashPartition<KeyOf> read(ByteReader& r) { return HashPartition<KeyOf>(detail::read_callable<KeyOf>(r)); }
};

/// A combine for std::vector pieces: concatenates them in input order.
struct Concatenate {
  template <class T, class A>
  std::vector<T, A> operator()(std::vector<std::vector<T, A>>&& pieces) const {
    std::size_t n = 0;
    for (const auto& p : pieces) n += p.size();
    std::vector<T, A> out;
    out.reserve(n);
    for (auto& p : pieces) {
      out.insert(out.end(), std::make_move_iterator(p.begin()), std::make_move_iterator(p.end()));
      std::vector<T, A>().swap(p);
    }
    return out;
  }
};

/// shuffle() of std::vector<T> partitions by hash of key_of(record), concatenating the pieces:
/// every record with a given key lands in the same output partition.
template <class T, class A, class KeyOf>
std::vector<Delayed<std::vector<T, A>>> hash_shuffle(const std::vector<Delayed<std::vector<T, A>>>& inputs,
                                                     std::size_t n_out, KeyOf key_of,
                                                     ShuffleOptions options = {}) {
  return shuffle(inputs, n_out, HashPartition<KeyOf>(std::move(key_of)), Concatenate{}, std::move(options));
}

}  // namespace tessera
