#include <tessera/storage/working_memory.hpp>

#include <atomic>

namespace tessera {

namespace {
std::atomic<ResultStore*> g_store{nullptr};
}  // namespace

void set_working_memory_store(ResultStore* store) noexcept { g_store.store(store); }

ResultStore* working_memory_store() noexcept { return g_store.load(); }

MemoryCharge charge_working_memory(std::uint64_t bytes) {
  ResultStore* store = g_store.load();
  if (store == nullptr) return {};
  return store->charge(bytes);
}

}  // namespace tessera
