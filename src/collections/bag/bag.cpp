// Bag creation that needs no template: partition sizes and range().
#include <tessera/collections/bag/bag.hpp>

namespace tessera::bag {
namespace detail {
namespace {

std::vector<std::int64_t> range_block(std::int64_t start, std::int64_t stop) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(stop - start));
  for (std::int64_t i = start; i < stop; ++i) out.push_back(i);
  return out;
}

}  // namespace

std::size_t partition_size_for(std::size_t n, const SequenceOptions& o) {
  if (o.npartitions != 0 && o.partition_size != 0) {
    TESSERA_THROW(GraphError, "from_sequence: give npartitions or partition_size, not both");
  }
  if (o.partition_size != 0) return o.partition_size;
  if (o.npartitions != 0) return std::max<std::size_t>(1, (n + o.npartitions - 1) / o.npartitions);
  return n <= 100 ? 1 : (n + 99) / 100;
}

}  // namespace detail

Bag<std::int64_t> range(std::int64_t n, std::size_t npartitions) {
  if (npartitions == 0) TESSERA_THROW(GraphError, "range(", n, ", 0): a bag needs at least one partition");
  if (n < 0) n = 0;
  auto fn = tessera::delayed(&detail::range_block, {.name = "range", .pure = true});
  const auto parts = static_cast<std::int64_t>(npartitions);
  const std::int64_t size = std::max<std::int64_t>(1, (n + parts - 1) / parts);
  std::vector<Delayed<std::vector<std::int64_t>>> out;
  for (std::int64_t at = 0; at < n; at += size) out.push_back(fn(at, std::min(n, at + size)));
  if (out.empty()) out.push_back(fn(std::int64_t{0}, std::int64_t{0}));
  return Bag<std::int64_t>(std::move(out));
}

}  // namespace tessera::bag
