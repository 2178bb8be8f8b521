#pragma once

/// @file
/// tessera::delayed: Dask's `delayed` for C++. Wrapping a function and calling it builds a task
/// lazily; nothing runs until compute().
///
/// @code
/// int inc(int x) { return x + 1; }
/// int add(int a, int b) { return a + b; }
///
/// auto x = tessera::delayed(inc)(1);                 // Delayed<int>, nothing ran
/// auto y = tessera::delayed(inc)(2);
/// auto z = tessera::delayed(add)(x, y);              // depends on x and y
/// int five = tessera::compute(z);                    // runs the graph: 5
///
/// std::vector<tessera::Delayed<int>> parts = {x, y, z};
/// auto total = tessera::delayed([](const std::vector<int>& v) {
///   return std::accumulate(v.begin(), v.end(), 0); })(parts);   // Dask's delayed(sum)(list)
/// @endcode
///
/// Arguments may be plain values (copied into the task), Delayed<T> (the function receives a
/// const T&), or std::vector<Delayed<T>> (the function receives a std::vector<T>).
/// Calls are impure by default, as in Dask (`pure=False`): every call is its own task, so four
/// equal calls `delayed(f)(x)` are four tasks that may run in parallel. Its key is
/// "name-<hash of function, arguments and a per-process call sequence number>": unique within
/// the run, and still the same in every run of a program that builds its graphs in the same
/// order (graphs are built on rank 0 only, so ranks never disagree). Pass `{.pure = true}`
/// (Dask's `pure=True`) for side-effect-free functions whose equal calls should share one task
/// and one key, deterministic from the function and arguments alone (as Dask's tokenize);
/// the array collection builds all its tasks that way. Client::submit is pure by default.

#include <tessera/core/hash.hpp>
#include <tessera/graph/task.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace tessera {

/// The result of a task that returns nothing.
struct Nothing {
  friend bool operator==(Nothing, Nothing) = default;
};

/// A lazily computed value of type T: a handle to a task node. Cheap to copy.
template <class T>
class Delayed {
public:
  using value_type = T;
  Delayed() = default;
  explicit Delayed(detail::NodePtr node) noexcept : m_node(std::move(node)) {}

  /// The task's key, e.g. "inc-5f1c0a2b3c4d5e6f". Throws: GraphError if the handle is empty.
  [[nodiscard]] const Key& key() const {
    if (!m_node) TESSERA_THROW(GraphError, "key() of an empty Delayed handle");
    return m_node->key;
  }
  [[nodiscard]] bool valid() const noexcept { return m_node != nullptr; }
  [[nodiscard]] const detail::NodePtr& node() const noexcept { return m_node; }

private:
  detail::NodePtr m_node;
};

/// Options of tessera::delayed.
struct DelayedOptions {
  /// Key prefix; default: the function's symbol name, "lambda", or the class name.
  std::string name = {};
  /// false (default, Dask's delayed): every call is its own task with a fresh key.
  /// true: equal calls (same function and arguments) share one key and run once.
  bool pure = false;
  /// Placement group (TaskNode::worker_hint): -1 (default) lets the scheduler choose; h >= 0
  /// makes the MPI scheduler run the task on worker 1 + h % workers. Not part of the key.
  std::int32_t worker_hint = -1;
};

namespace detail {

template <class A>
struct ArgTraits {  // a literal argument, stored in the task
  static constexpr int kind = 0;
  using Stored = A;
  using Passed = const A&;
};
template <class T>
struct ArgTraits<Delayed<T>> {  // one dependency
  static constexpr int kind = 1;
  struct Stored {};
  using Passed = const T&;
};
template <class T, class Alloc>
struct ArgTraits<std::vector<Delayed<T>, Alloc>> {  // a list of dependencies
  static constexpr int kind = 2;
  using Stored = std::uint64_t;  // how many
  using Passed = const std::vector<T>&;
};

template <class A>
using stored_t = typename ArgTraits<A>::Stored;
template <class A>
using passed_t = typename ArgTraits<A>::Passed;

template <class F, class... A>
using call_result_t = std::invoke_result_t<const F&, passed_t<A>...>;

template <class R>
using value_of_t = std::conditional_t<std::is_void_v<R>, Nothing, std::decay_t<R>>;

/// Holds an argument in the form the function receives it, for the duration of one call.
template <class A>
struct Holder {
  const A* p;
  const A& get() const noexcept { return *p; }
};
template <class T>
struct Holder<Delayed<T>> {
  Value v;
  const T& get() const { return v.get<T>(); }
};
template <class T, class Alloc>
struct Holder<std::vector<Delayed<T>, Alloc>> {
  std::vector<T> v;
  const std::vector<T>& get() const noexcept { return v; }
};

/// Decodes a trivially copyable type that may not be default constructible (lambdas).
template <class F>
F read_callable(ByteReader& r) {
  // Same order as write_callable.
  if constexpr (std::is_empty_v<F> && std::is_default_constructible_v<F>) {
    return F{};
  } else if constexpr (Serializable<F>) {
    return Codec<F>::read(r);
  } else {
    std::array<std::byte, sizeof(F)> raw;
    r.read(raw.data(), raw.size());
    return std::bit_cast<F>(raw);
  }
}

template <class F>
constexpr bool callable_serializable =
    (std::is_empty_v<F> && std::is_default_constructible_v<F>) || Serializable<F> ||
    (std::is_trivially_copyable_v<F> && !std::is_pointer_v<F>);

template <class F>
void write_callable(ByteWriter& w, const F& f) {
  if constexpr (std::is_empty_v<F> && std::is_default_constructible_v<F>) {
  } else if constexpr (Serializable<F>) {
    Codec<F>::write(w, f);
  } else if constexpr (std::is_trivially_copyable_v<F> && !std::is_pointer_v<F>) {
    w.write(&f, sizeof(F));
  } else {
    TESSERA_THROW(SerializationError, "the callable ", demangle(typeid(F).name()),
                  " cannot be sent to another rank: capture only trivially copyable or "
                  "Boost-serializable values");
  }
}

template <class F, class... A>
class CallBody final : public TaskBody {
public:
  CallBody(F f, std::tuple<stored_t<A>...> stored) : m_f(std::move(f)), m_stored(std::move(stored)) {}

  Value run(std::span<const Value> inputs) const override {
    return call(inputs, std::index_sequence_for<A...>{});
  }

  void encode_state(ByteWriter& out) const override {
    write_callable(out, m_f);
    encode_stored(out, std::index_sequence_for<A...>{});
  }

  [[nodiscard]] RemoteEntry remote_entry() const noexcept override { return &remote_run; }

  static Value remote_run(ByteReader& state, std::span<const Value> inputs) {
    if constexpr (callable_serializable<F> &&
                  ((ArgTraits<A>::kind != 0 || Serializable<stored_t<A>>) && ...)) {
      F f = read_callable<F>(state);
      std::tuple<stored_t<A>...> stored{read_stored<A>(state)...};
      return CallBody(std::move(f), std::move(stored)).run(inputs);
    } else {
      TESSERA_THROW(SerializationError, "task with callable ", demangle(typeid(F).name()),
                    " cannot run on another rank: its callable or arguments are not serializable");
    }
  }

private:
  template <class B>
  static stored_t<B> read_stored(ByteReader& r) {
    if constexpr (ArgTraits<B>::kind == 1) {
      return {};
    } else if constexpr (Serializable<stored_t<B>>) {
      return Codec<stored_t<B>>::read(r);
    } else {
      TESSERA_THROW(SerializationError, "argument type ", demangle(typeid(B).name()),
                    " is not serializable");
    }
  }

  template <std::size_t... I>
  void encode_stored(ByteWriter& out, std::index_sequence<I...>) const {
    (encode_one<A>(out, std::get<I>(m_stored)), ...);
  }
  template <class B>
  static void encode_one(ByteWriter& out, const stored_t<B>& s) {
    if constexpr (ArgTraits<B>::kind == 1) {
    } else if constexpr (Serializable<stored_t<B>>) {
      Codec<stored_t<B>>::write(out, s);
    } else {
      TESSERA_THROW(SerializationError, "argument of type ", demangle(typeid(B).name()),
                    " cannot be sent to another rank: give it a Boost.Serialization serialize() "
                    "member or specialize tessera::Codec");
    }
  }

  template <class B>
  std::size_t consumed(const stored_t<B>& s) const noexcept {
    if constexpr (ArgTraits<B>::kind == 0) return 0;
    else if constexpr (ArgTraits<B>::kind == 1) return 1;
    else return static_cast<std::size_t>(s);
  }

  template <class B>
  static Holder<B> hold(const stored_t<B>& s, std::span<const Value> inputs, std::size_t at) {
    if constexpr (ArgTraits<B>::kind == 0) {
      return Holder<B>{&s};
    } else if constexpr (ArgTraits<B>::kind == 1) {
      using T = typename B::value_type;
      return Holder<B>{inputs[at].template decoded<T>()};
    } else {
      using T = typename B::value_type::value_type;
      Holder<B> h;
      h.v.reserve(static_cast<std::size_t>(s));
      for (std::size_t i = 0; i < static_cast<std::size_t>(s); ++i) {
        h.v.push_back(inputs[at + i].template decoded<T>().template get<T>());
      }
      return h;
    }
  }

  template <std::size_t... I>
  Value call([[maybe_unused]] std::span<const Value> inputs, std::index_sequence<I...>) const {
    // [[maybe_unused]]: a task without arguments reads neither (-Wunused-but-set under -Werror).
    [[maybe_unused]] std::array<std::size_t, sizeof...(A) + 1> at{};
    ((at[I + 1] = at[I] + consumed<A>(std::get<I>(m_stored))), ...);
    std::tuple<Holder<A>...> held{hold<A>(std::get<I>(m_stored), inputs, at[I])...};
    using R = call_result_t<F, A...>;
    if constexpr (std::is_void_v<R>) {
      std::invoke(m_f, std::get<I>(held).get()...);
      return Value::of(Nothing{});
    } else {
      return Value::of<std::decay_t<R>>(std::invoke(m_f, std::get<I>(held).get()...));
    }
  }

  F m_f;
  std::tuple<stored_t<A>...> m_stored;
};

std::uint64_t next_impure_token() noexcept;

/// Hashes a literal argument into the key. Serializable values hash their bytes; others hash
/// their type and a process-wide sequence number (they are then treated as impure).
template <class A>
void token(Hasher& h, const A& a) {
  h.str(typeid(A).name());
  if constexpr (Bitwise<A>) {
    h.bytes(&a, sizeof(A));
  } else if constexpr (requires {
                         typename A::value_type;
                         a.data();
                         a.size();
                         requires Bitwise<typename A::value_type>;
                       }) {
    h.bytes(a.data(), a.size() * sizeof(typename A::value_type));
  } else if constexpr (Serializable<A>) {
    const Bytes b = encode(a);
    h.bytes(b.data(), b.size());
  } else {
    h.u64(next_impure_token());
  }
}
template <class A>
void token_arg(Hasher& h, const A& a, std::vector<NodePtr>& inputs, stored_t<A>& stored) {
  if constexpr (ArgTraits<A>::kind == 1) {
    if (!a.valid()) TESSERA_THROW(GraphError, "an empty Delayed handle was passed as an argument");
    h.u64(a.node()->hash);
    inputs.push_back(a.node());
  } else if constexpr (ArgTraits<A>::kind == 2) {
    h.u64(a.size());
    for (const auto& d : a) {
      if (!d.valid()) TESSERA_THROW(GraphError, "an empty Delayed handle was passed in a list");
      h.u64(d.node()->hash);
      inputs.push_back(d.node());
    }
    stored = a.size();
  } else {
    token(h, a);
  }
}

/// Key prefix for a callable type.
std::string callable_name(const std::type_info& type);
std::string function_pointer_name(const void* fn);
std::uint64_t function_pointer_token(const void* fn);

}  // namespace detail

/// A wrapped function; calling it builds a task. Returned by tessera::delayed.
template <class F>
class DelayedFunction {
public:
  DelayedFunction(F f, DelayedOptions options)
      : m_f(std::move(f)), m_pure(options.pure), m_worker_hint(options.worker_hint) {
    Hasher h;
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
      const void* p = reinterpret_cast<const void*>(m_f);
      h.u64(detail::function_pointer_token(p));
      m_name = options.name.empty() ? detail::function_pointer_name(p) : options.name;
    } else {
      h.str(typeid(F).name());
      if constexpr (Bitwise<F>) h.bytes(&m_f, sizeof(F));
      else if constexpr (Serializable<F>) {
        const Bytes b = encode(m_f);
        h.bytes(b.data(), b.size());
      }
      m_name = options.name.empty() ? detail::callable_name(typeid(F)) : options.name;
    }
    h.str(m_name);
    m_token = h.digest();
  }

  /// Builds a task calling the function with `args`; runs nothing.
  /// Throws: GraphError if an empty Delayed handle is passed.
  template <class... Args>
  auto operator()(Args&&... args) const {
    constexpr bool ok = std::is_invocable_v<const F&, detail::passed_t<std::decay_t<Args>>...>;
    if constexpr (!ok) {
      static_assert(ok,
                    "tessera::delayed: the function cannot be called with these arguments. A "
                    "Delayed<T> argument reaches the function as const T&, a "
                    "std::vector<Delayed<T>> as const std::vector<T>&, anything else as a const "
                    "reference to a copy.");
      return Delayed<Nothing>{};
    } else {
      using R = detail::value_of_t<detail::call_result_t<F, std::decay_t<Args>...>>;
      return Delayed<R>(make_node(std::forward<Args>(args)...));
    }
  }

private:
  template <class... Args>
  detail::NodePtr make_node(Args&&... args) const {
    auto node = std::make_shared<detail::TaskNode>();
    Hasher h(m_token);
    std::tuple<detail::stored_t<std::decay_t<Args>>...> stored{};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (detail::token_arg<std::decay_t<Args>>(h, args, node->inputs, std::get<I>(stored)), ...);
      ((void)I, ...);
    }(std::index_sequence_for<Args...>{});
    // Literals are copied (or moved) into the task only after their tokens were taken.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((store_literal<std::decay_t<Args>>(std::get<I>(stored), std::forward<Args>(args))), ...);
    }(std::index_sequence_for<Args...>{});
    if (!m_pure) h.u64(detail::next_impure_token());
    detail::set_key(*node, m_name, h.digest());
    node->worker_hint = m_worker_hint;
    node->body = std::make_unique<detail::CallBody<F, std::decay_t<Args>...>>(m_f, std::move(stored));
    return node;
  }

  template <class A, class Arg>
  static void store_literal(detail::stored_t<A>& slot, Arg&& arg) {
    if constexpr (detail::ArgTraits<A>::kind == 0) slot = std::forward<Arg>(arg);
  }

  F m_f;
  bool m_pure;
  std::int32_t m_worker_hint;
  std::string m_name;
  std::uint64_t m_token = 0;
};

/// Wraps `f` (function, function pointer, lambda, function object) for lazy calls.
///
/// Lambdas whose captures are trivially copyable or Boost-serializable can also run on other
/// MPI ranks; other callables run on the sync and threads schedulers only.
template <class F>
DelayedFunction<std::decay_t<F>> delayed(F&& f, DelayedOptions options = {}) {
  return DelayedFunction<std::decay_t<F>>(std::forward<F>(f), std::move(options));
}

/// Wraps an existing value as a graph node (Dask's `delayed(obj)`).
template <class T>
Delayed<std::decay_t<T>> literal(T&& v, std::string name = "literal") {
  using V = std::decay_t<T>;
  auto node = std::make_shared<detail::TaskNode>();
  Hasher h;
  detail::token(h, v);
  detail::set_key(*node, name, h.digest());
  node->value = Value::of<V>(std::forward<T>(v));
  return Delayed<V>(std::move(node));
}

}  // namespace tessera
