// check_same_binary: every rank runs the same executable (core/executable.hpp), else a
// message naming the ranks that differ.
#include <tessera/transport/environment.hpp>

#include <tessera/core/error.hpp>
#include <tessera/core/hash.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace tessera {

void check_same_binary(const Comm& comm) {
  detail::check_same_fingerprint(comm, executable_fingerprint(), executable_path());
}

namespace detail {

void check_same_fingerprint(const Comm& comm, const std::string& fingerprint,
                            const std::string& path) {
  Hasher h;
  h.str(fingerprint);
  const auto hashes = comm.all_gather(h.digest());
  bool same = true;
  for (auto v : hashes) same = same && v == hashes[0];
  if (same) return;

  // Rare path: collect paths and fingerprints on rank 0, which writes the message for all.
  const std::string mine = path + " (" + fingerprint + ")";
  const auto all = comm.gather(std::as_bytes(std::span(mine.data(), mine.size())), 0);
  std::vector<std::byte> text;
  if (comm.rank() == 0) {
    std::map<std::uint64_t, std::vector<int>> groups;
    for (std::size_t r = 0; r < hashes.size(); ++r) groups[hashes[r]].push_back(static_cast<int>(r));
    auto describe = [&](int r) {
      const auto& b = all[static_cast<std::size_t>(r)];
      return std::string(reinterpret_cast<const char*>(b.data()), b.size());
    };
    std::ostringstream os;
    os << "ranks run different executables: rank 0 runs " << describe(0) << "; ";
    bool first = true;
    for (std::size_t r = 1; r < hashes.size(); ++r) {
      if (hashes[r] == hashes[0]) continue;
      os << (first ? "" : ", ") << "rank " << r << " runs " << describe(static_cast<int>(r));
      first = false;
    }
    os << " (" << groups.size() << " distinct executables; launch the same binary on every rank)";
    const std::string s = os.str();
    text.assign(reinterpret_cast<const std::byte*>(s.data()),
                reinterpret_cast<const std::byte*>(s.data()) + s.size());
  }
  comm.broadcast(text, 0);
  throw TransportError(std::string(reinterpret_cast<const char*>(text.data()), text.size()));
}

}  // namespace detail
}  // namespace tessera
