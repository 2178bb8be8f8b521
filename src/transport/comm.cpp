#include <tessera/transport/comm.hpp>

#include <tessera/core/error.hpp>

#include <algorithm>
#include <climits>
#include <string>

#include "transport/mpi_check.hpp"

namespace tessera {

namespace detail {

std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "unknown MPI error";
  return std::string(text, static_cast<std::size_t>(len));
}

int world_rank_for_messages() noexcept {
  int init = 0;
  int fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (!init || fin) return -1;
  int r = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

void throw_mpi_error(const char* call, int code) {
  TESSERA_THROW(TransportError, call, " failed on rank ", world_rank_for_messages(), ": ",
                mpi_error_string(code), " (code ", code, ")");
}

MPI_Comm CommAccess::native(const Comm& c) {
  if (!c.m_state) TESSERA_THROW(TransportError, "use of a null tessera::Comm");
  if (c.m_state->comm == MPI_COMM_NULL) {
    TESSERA_THROW(TransportError, "use of a tessera::Comm on rank ", c.m_state->rank,
                  " after its owner (Environment or Messenger) freed it");
  }
  return c.m_state->comm;
}

std::shared_ptr<CommState> duplicate_comm(MPI_Comm parent) {
  auto state = std::make_shared<CommState>();
  TESSERA_MPI_CHECK(MPI_Comm_dup, parent, &state->comm);
  TESSERA_MPI_CHECK(MPI_Comm_set_errhandler, state->comm, MPI_ERRORS_RETURN);
  TESSERA_MPI_CHECK(MPI_Comm_rank, state->comm, &state->rank);
  TESSERA_MPI_CHECK(MPI_Comm_size, state->comm, &state->size);
  return state;
}

void free_comm(CommState& state) noexcept {
  if (state.comm != MPI_COMM_NULL) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Comm_free(&state.comm);
    state.comm = MPI_COMM_NULL;
  }
}

}  // namespace detail

namespace {
constexpr std::size_t max_piece = std::size_t{1} << 30;

MPI_Op native_op(detail::ReduceOp op) {
  switch (op) {
    case detail::ReduceOp::sum: return MPI_SUM;
    case detail::ReduceOp::max: return MPI_MAX;
    case detail::ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

void check_root(int root, int size) {
  if (root < 0 || root >= size) {
    TESSERA_THROW(TransportError, "root rank ", root, " is outside the communicator of size ", size);
  }
}
}  // namespace

int Comm::rank() const {
  (void)detail::CommAccess::native(*this);
  return m_state->rank;
}

int Comm::size() const {
  (void)detail::CommAccess::native(*this);
  return m_state->size;
}

bool Comm::valid() const noexcept { return m_state && m_state->comm != MPI_COMM_NULL; }

void Comm::barrier() const { TESSERA_MPI_CHECK(MPI_Barrier, detail::CommAccess::native(*this)); }

std::int64_t Comm::reduce_i64(std::int64_t value, detail::ReduceOp op) const {
  std::int64_t out = 0;
  TESSERA_MPI_CHECK(MPI_Allreduce, &value, &out, 1, MPI_INT64_T, native_op(op),
                    detail::CommAccess::native(*this));
  return out;
}

double Comm::reduce_double(double value, detail::ReduceOp op) const {
  double out = 0;
  TESSERA_MPI_CHECK(MPI_Allreduce, &value, &out, 1, MPI_DOUBLE, native_op(op),
                    detail::CommAccess::native(*this));
  return out;
}

void Comm::broadcast(std::vector<std::byte>& bytes, int root) const {
  MPI_Comm c = detail::CommAccess::native(*this);
  check_root(root, m_state->size);
  std::uint64_t n = bytes.size();
  TESSERA_MPI_CHECK(MPI_Bcast, &n, 1, MPI_UINT64_T, root, c);
  if (m_state->rank != root) bytes.resize(n);
  for (std::size_t off = 0; off < n; off += max_piece) {
    const auto piece = static_cast<int>(std::min<std::size_t>(max_piece, n - off));
    TESSERA_MPI_CHECK(MPI_Bcast, bytes.data() + off, piece, MPI_BYTE, root, c);
  }
}

std::vector<std::vector<std::byte>> Comm::gather(std::span<const std::byte> bytes, int root) const {
  MPI_Comm c = detail::CommAccess::native(*this);
  const int size = m_state->size;
  check_root(root, size);
  const auto mine = static_cast<std::uint64_t>(bytes.size());
  std::vector<std::uint64_t> sizes(m_state->rank == root ? static_cast<std::size_t>(size) : 0);
  TESSERA_MPI_CHECK(MPI_Gather, &mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, root, c);
  // Agree on whether the total fits in int displacements before the data moves.
  std::uint64_t total = 0;
  for (auto s : sizes) total += s;
  TESSERA_MPI_CHECK(MPI_Bcast, &total, 1, MPI_UINT64_T, root, c);
  if (total >= static_cast<std::uint64_t>(INT_MAX)) {
    TESSERA_THROW(TransportError, "Comm::gather of ", total, " bytes on rank ", m_state->rank,
                  ": the total must stay below 2 GiB");
  }
  std::vector<int> counts;
  std::vector<int> displs;
  std::vector<std::byte> flat;
  if (m_state->rank == root) {
    counts.resize(static_cast<std::size_t>(size));
    displs.resize(static_cast<std::size_t>(size));
    int off = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      counts[r] = static_cast<int>(sizes[r]);
      displs[r] = off;
      off += counts[r];
    }
    flat.resize(total);
  }
  TESSERA_MPI_CHECK(MPI_Gatherv, bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE,
                    flat.data(), counts.data(), displs.data(), MPI_BYTE, root, c);
  std::vector<std::vector<std::byte>> out;
  if (m_state->rank == root) {
    out.reserve(counts.size());
    for (std::size_t r = 0; r < counts.size(); ++r) {
      const auto* first = flat.data() + displs[r];
      out.emplace_back(first, first + counts[r]);
    }
  }
  return out;
}

std::vector<std::uint64_t> Comm::all_gather(std::uint64_t value) const {
  MPI_Comm c = detail::CommAccess::native(*this);
  std::vector<std::uint64_t> out(static_cast<std::size_t>(m_state->size));
  TESSERA_MPI_CHECK(MPI_Allgather, &value, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, c);
  return out;
}

}  // namespace tessera
