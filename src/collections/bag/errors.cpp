// Element and partition errors of tessera::bag: the original exception's type and text, prefixed
// with where in the bag it happened.
#include <tessera/collections/bag/errors.hpp>

#include <exception>
#include <string>

namespace tessera::bag::detail {
namespace {

std::string current_message() {
  try {
    throw;
  } catch (const std::exception& e) {
    return tessera::detail::current_exception_type() + ": " + e.what();
  } catch (...) {
    return tessera::detail::current_exception_type();
  }
}

}  // namespace

void rethrow_element(std::uint64_t partition, std::size_t index) {
  TESSERA_THROW(ElementError, "bag partition ", partition, ", element ", index, ": ", current_message());
}

void rethrow_index(std::size_t index) {
  TESSERA_THROW(IndexedFailure, "element ", index, ": ", current_message());
}

void rethrow_partition(std::uint64_t partition) {
  try {
    throw;
  } catch (const IndexedFailure& e) {
    TESSERA_THROW(ElementError, "bag partition ", partition, ", ", e.what());
  } catch (...) {
  }
  TESSERA_THROW(ElementError, "bag partition ", partition, ": ", current_message());
}

}  // namespace tessera::bag::detail
