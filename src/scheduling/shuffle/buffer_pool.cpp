// The buffers of serialized shuffle pieces (shuffle_buffer, shuffle_service.hpp), from the
// process's one BufferPool. Splitting a partition writes every piece into fresh memory, and
// fresh memory faults a page at a time on first touch (1-2 GB/s here, against ~30 GB/s for
// memory already mapped): a buffer that held a piece of the last partition holds one of the
// next instead.
#include <tessera/core/buffer_pool.hpp>
#include <tessera/scheduling/detail/shuffle_service.hpp>

namespace tessera::detail {

std::shared_ptr<Bytes> shuffle_buffer(std::size_t size) {
  return std::shared_ptr<Bytes>(new Bytes(BufferPool::instance().take_bytes(size)), [](Bytes* b) {
    BufferPool::instance().recycle(std::move(*b));
    delete b;
  });
}

}  // namespace tessera::detail
