// Checkpoint: sealed HDF5 segments of task results (see include/tessera/storage/checkpoint.hpp).
#include <tessera/storage/checkpoint.hpp>

#include <tessera/core/executable.hpp>

#include <tessera/core/config.hpp>
#include <tessera/core/hash.hpp>
#include <tessera/storage/hdf5_lock.hpp>

#include "storage/hdf5_support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <unordered_map>

namespace tessera {

using detail::Hdf5Id;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kFormat = 1;

/// What a checkpoint records of the program that wrote it: the executable's identity and path.
std::string program_identity() { return executable_fingerprint() + " " + executable_path(); }

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  TESSERA_THROW(StorageError, "checkpoint '", path, "': ", what);
}

template <class T>
hid_t native() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_NATIVE_UINT32;
  else return H5T_NATIVE_UINT64;
}

/// Writes `data` as a 1-d dataset `name` of `file`. Caller holds the HDF5 lock.
template <class T>
bool write_dataset(hid_t file, const char* name, const T* data, std::size_t n) {
  const hsize_t dims[1] = {static_cast<hsize_t>(n)};
  Hdf5Id space(H5Screate_simple(1, dims, nullptr));
  if (!space.valid()) return false;
  Hdf5Id dset(H5Dcreate2(file, name, native<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!dset.valid()) return false;
  return n == 0 || H5Dwrite(dset.get(), native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
}

/// Reads the 1-d dataset `name` whole. Caller holds the HDF5 lock. Throws: StorageError.
template <class T>
std::vector<T> read_dataset(hid_t file, const char* name, const std::string& where) {
  Hdf5Id dset(H5Dopen2(file, name, H5P_DEFAULT));
  if (!dset.valid()) fail(where, std::string("dataset '") + name + "' is missing: " + detail::hdf5_error_text());
  Hdf5Id space(H5Dget_space(dset.get()));
  hsize_t dims[1] = {0};
  if (!space.valid() || H5Sget_simple_extent_ndims(space.get()) != 1 ||
      H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0) {
    fail(where, std::string("dataset '") + name + "' is not 1-d: " + detail::hdf5_error_text());
  }
  std::vector<T> out(dims[0]);
  if (!out.empty() && H5Dread(dset.get(), native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    fail(where, std::string("reading dataset '") + name + "' failed: " + detail::hdf5_error_text());
  }
  return out;
}

/// Makes `path` durable: its data, then (after a rename) its directory entry.
void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

std::string entry_key(std::uint32_t run, std::string_view key) {
  std::string k(sizeof run, '\0');
  std::memcpy(k.data(), &run, sizeof run);
  k.append(key);
  return k;
}

struct Location {
  std::uint32_t segment = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

/// Results not yet sealed.
struct Batch {
  std::vector<std::uint32_t> runs;
  std::vector<std::uint64_t> key_offsets{0};
  std::vector<std::uint8_t> keys;
  std::vector<std::uint64_t> value_offsets{0};
  std::vector<std::uint8_t> values;
  std::chrono::steady_clock::time_point first{};

  [[nodiscard]] std::size_t size() const noexcept { return runs.size(); }
  void clear() { *this = Batch{}; }
};

/// Reads `size` bytes at `offset` of the `values` dataset of segment `file` (absolute or not).
/// Throws: StorageError naming `where`.
Value read_value(const fs::path& file, std::uint64_t offset, std::uint64_t size, const std::string& where) {
  auto bytes = std::make_shared<Bytes>(size);
  detail::Hdf5Lock lock;
  detail::hdf5_init();
  if (!fs::exists(file)) fail(where, "the file does not exist (on this host)");
  Hdf5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.valid()) fail(where, "cannot open: " + detail::hdf5_error_text());
  Hdf5Id dset(H5Dopen2(f.get(), "values", H5P_DEFAULT));
  Hdf5Id space(dset.valid() ? H5Dget_space(dset.get()) : H5I_INVALID_HID);
  hsize_t dims[1] = {0};
  if (!space.valid() || H5Sget_simple_extent_dims(space.get(), dims, nullptr) != 1 || dims[0] < offset + size) {
    fail(where, "its values end before the result (bytes " + std::to_string(offset) + ".." +
                    std::to_string(offset + size) + "): " + detail::hdf5_error_text());
  }
  const hsize_t start[1] = {offset}, count[1] = {size};
  Hdf5Id mem(H5Screate_simple(1, count, nullptr));
  const bool ok = mem.valid() &&
                  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) >= 0 &&
                  (size == 0 ||
                   H5Dread(dset.get(), H5T_NATIVE_UINT8, mem.get(), space.get(), H5P_DEFAULT, bytes->data()) >= 0);
  if (!ok) fail(where, "reading a result failed: " + detail::hdf5_error_text());
  return Value::serialized(std::move(bytes));
}

/// The generation in a shard segment's name ("g000003.r00001.00000000.h5": 3), or 0.
std::uint32_t generation_of(const std::string& name) {
  if (name.size() < 2 || name[0] != 'g') return 0;
  std::uint32_t g = 0;
  for (std::size_t k = 1; k < name.size() && name[k] >= '0' && name[k] <= '9'; ++k) g = g * 10 + (name[k] - '0');
  return g;
}

}  // namespace

struct Checkpoint::Impl {
  std::string path;
  fs::path dir;  // path + ".d"
  Options options;
  mutable std::mutex mutex;
  std::vector<fs::path> segments;                    // sealed, by number
  std::unordered_map<std::string, Location> index;   // entry_key(run, key) -> where
  std::unordered_map<std::uint32_t, std::uint64_t> fingerprints;  // run -> graph fingerprint
  std::uint32_t next_run = 0;
  Batch batch;
  Stats stats;
  bool shard = false;        // a shard writer (open_shard): reads nothing, indexes nothing
  std::string prefix;        // shard: its segments' name prefix
  std::uint32_t generation = 1;  // owner: one more than any shard segment found

  void open_or_create() {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(path, "cannot create directory '" + dir.string() + "': " + ec.message());
    const std::string mine = program_identity();
    detail::Hdf5Lock lock;
    detail::hdf5_init();
    if (!fs::exists(path)) {
      write_header(mine);
    } else {
      Hdf5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
      if (!file.valid()) fail(path, "cannot open: " + detail::hdf5_error_text());
      const auto format = read_dataset<std::uint64_t>(file.get(), "format", path);
      if (format.size() != 1 || format[0] != kFormat) fail(path, "not a tessera checkpoint of format 1");
      const auto who = read_dataset<std::uint8_t>(file.get(), "executable", path);
      const std::string theirs(who.begin(), who.end());
      if (theirs != mine) {
        fail(path, "it was written by another executable (" + theirs + "); this one is " + mine +
                       ": results of another build are never reused; remove '" + path + "' and '" +
                       dir.string() + "' to start afresh");
      }
    }
    load_segments();
  }

  void write_header(const std::string& mine) {
    const fs::path tmp = path + ".tmp";
    {
      Hdf5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      const std::uint64_t format = kFormat;
      if (!file.valid() || !write_dataset(file.get(), "format", &format, 1) ||
          !write_dataset(file.get(), "executable", reinterpret_cast<const std::uint8_t*>(mine.data()),
                         mine.size())) {
        fail(path, "cannot write: " + detail::hdf5_error_text());
      }
    }
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) fail(path, "cannot rename '" + tmp.string() + "': " + ec.message());
    fsync_path(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path());
  }

  void load_segments() {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto& p = e.path();
      if (p.extension() == ".tmp") {  // a batch a killed writer did not seal
        std::error_code ec;
        fs::remove(p, ec);
      } else if (p.extension() == ".h5") {
        found.push_back(p);
        generation = std::max(generation, generation_of(p.filename().string()) + 1);
      }
    }
    std::sort(found.begin(), found.end());
    for (const auto& p : found) load_segment(p);
  }

  void load_segment(const fs::path& p) {
    const std::string where = path + " (segment " + p.filename().string() + ")";
    Hdf5Id file(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!file.valid()) fail(where, "cannot open: " + detail::hdf5_error_text());
    const auto runs = read_dataset<std::uint32_t>(file.get(), "runs", where);
    const auto key_offsets = read_dataset<std::uint64_t>(file.get(), "key_offsets", where);
    const auto keys = read_dataset<std::uint8_t>(file.get(), "keys", where);
    const auto value_offsets = read_dataset<std::uint64_t>(file.get(), "value_offsets", where);
    Hdf5Id values(H5Dopen2(file.get(), "values", H5P_DEFAULT));
    Hdf5Id values_space(values.valid() ? H5Dget_space(values.get()) : H5I_INVALID_HID);
    hsize_t values_size[1] = {0};
    if (!values_space.valid() || H5Sget_simple_extent_dims(values_space.get(), values_size, nullptr) != 1) {
      fail(where, "dataset 'values' is missing or not 1-d: " + detail::hdf5_error_text());
    }
    const auto prints = read_dataset<std::uint64_t>(file.get(), "run_fingerprints", where);
    const std::size_t n = runs.size();
    if (key_offsets.size() != n + 1 || value_offsets.size() != n + 1 || prints.size() % 2 != 0 ||
        key_offsets.back() != keys.size() || value_offsets.back() > values_size[0]) {
      fail(where, "its index is inconsistent (" + std::to_string(n) + " results)");
    }
    for (std::size_t k = 0; k + 1 < prints.size(); k += 2) {
      const auto run = static_cast<std::uint32_t>(prints[k]);
      auto [it, fresh] = fingerprints.emplace(run, prints[k + 1]);
      if (!fresh && it->second != prints[k + 1]) fail(where, "run " + std::to_string(run) + " has two fingerprints");
    }
    const auto seg = static_cast<std::uint32_t>(segments.size());
    segments.push_back(p);
    for (std::size_t i = 0; i < n; ++i) {
      if (key_offsets[i] > key_offsets[i + 1] || value_offsets[i] > value_offsets[i + 1]) {
        fail(where, "its index is inconsistent at result " + std::to_string(i));
      }
      const std::string_view key(reinterpret_cast<const char*>(keys.data()) + key_offsets[i],
                                 key_offsets[i + 1] - key_offsets[i]);
      index[entry_key(runs[i], key)] = Location{seg, value_offsets[i], value_offsets[i + 1] - value_offsets[i]};
    }
  }

  /// Seals the batch as the next segment. Holds `mutex`.
  void seal() {
    if (batch.size() == 0) return;
    char number[32];
    std::snprintf(number, sizeof number, "%08zu.h5", shard ? static_cast<std::size_t>(stats.segments) : segments.size());
    const std::string name = prefix + number;
    const fs::path final_path = dir / name;
    const fs::path tmp = dir / (std::string(name) + ".tmp");
    std::vector<std::uint64_t> prints;
    std::vector<std::uint32_t> seen = batch.runs;
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (auto r : seen) {
      prints.push_back(r);
      prints.push_back(fingerprints.at(r));
    }
    {
      detail::Hdf5Lock lock;
      detail::hdf5_init();
      Hdf5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      bool ok = file.valid();
      ok = ok && write_dataset(file.get(), "runs", batch.runs.data(), batch.runs.size());
      ok = ok && write_dataset(file.get(), "key_offsets", batch.key_offsets.data(), batch.key_offsets.size());
      ok = ok && write_dataset(file.get(), "keys", batch.keys.data(), batch.keys.size());
      ok = ok && write_dataset(file.get(), "value_offsets", batch.value_offsets.data(), batch.value_offsets.size());
      ok = ok && write_dataset(file.get(), "values", batch.values.data(), batch.values.size());
      ok = ok && write_dataset(file.get(), "run_fingerprints", prints.data(), prints.size());
      ok = file.reset() && ok;
      if (!ok) {
        const std::string why = detail::hdf5_error_text();
        std::error_code ec;
        fs::remove(tmp, ec);
        batch.clear();  // a full disk: these results are lost, later ones may still fit
        fail(path, "writing segment '" + final_path.filename().string() + "' failed: " + why);
      }
    }
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, final_path, ec);
    if (ec) fail(path, "cannot rename '" + tmp.string() + "': " + ec.message());
    fsync_path(dir);
    ++stats.segments;
    if (shard) {  // its owner indexes it when the checkpoint is opened again
      batch.clear();
      return;
    }
    const auto seg = static_cast<std::uint32_t>(segments.size());
    segments.push_back(final_path);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string_view key(reinterpret_cast<const char*>(batch.keys.data()) + batch.key_offsets[i],
                                 batch.key_offsets[i + 1] - batch.key_offsets[i]);
      index[entry_key(batch.runs[i], key)] =
          Location{seg, batch.value_offsets[i], batch.value_offsets[i + 1] - batch.value_offsets[i]};
    }
    batch.clear();
  }

  Value read(const Location& loc) {
    const std::string where = path + " (segment " + segments[loc.segment].filename().string() + ")";
    return read_value(segments[loc.segment], loc.offset, loc.size, where);
  }
};

Checkpoint::Checkpoint(std::string path, Options options) : m_impl(std::make_unique<Impl>()) {
  m_impl->path = std::move(path);
  m_impl->dir = m_impl->path + ".d";
  m_impl->options = options;
  m_impl->open_or_create();
}

Checkpoint::~Checkpoint() {
  try {
    flush();
  } catch (...) {  // lost, not wrong: the rerun computes them
  }
}

std::uint32_t Checkpoint::begin_run(std::uint64_t fingerprint, std::size_t tasks) {
  std::lock_guard lock(m_impl->mutex);
  const std::uint32_t run = m_impl->next_run++;
  auto [it, fresh] = m_impl->fingerprints.emplace(run, fingerprint);
  if (!fresh && it->second != fingerprint) {
    fail(m_impl->path, "run " + std::to_string(run) + " of this program builds another graph (" +
                           std::to_string(tasks) + " tasks, fingerprint " + to_hex(fingerprint) +
                           ") than the checkpoint's run " + std::to_string(run) + " (fingerprint " +
                           to_hex(it->second) + "): the program or its inputs changed; remove '" +
                           m_impl->path + "' and '" + m_impl->dir.string() + "' to start afresh");
  }
  return run;
}

std::optional<Checkpoint::Entry> Checkpoint::locate(std::uint32_t run, std::string_view key) {
  std::lock_guard lock(m_impl->mutex);
  auto it = m_impl->index.find(entry_key(run, key));
  if (it == m_impl->index.end()) return std::nullopt;
  ++m_impl->stats.loaded;
  std::error_code ec;
  const auto& seg = m_impl->segments[it->second.segment];
  fs::path absolute = fs::absolute(seg, ec);
  return Entry{(ec ? seg : absolute).string(), it->second.offset, it->second.size};
}

Value Checkpoint::read(const Entry& entry) {
  return read_value(entry.segment, entry.offset, entry.size, "checkpoint segment '" + entry.segment + "'");
}

std::string Checkpoint::shard_prefix(int shard) const {
  char prefix[48];
  std::snprintf(prefix, sizeof prefix, "g%06u.r%05d.", m_impl->generation, shard);
  return prefix;
}

std::unique_ptr<Checkpoint> Checkpoint::open_shard(std::string path, std::string prefix, Options options) {
  std::unique_ptr<Checkpoint> ck(new Checkpoint());
  ck->m_impl = std::make_unique<Impl>();
  auto& impl = *ck->m_impl;
  impl.path = std::move(path);
  impl.dir = impl.path + ".d";
  impl.options = options;
  impl.shard = true;
  impl.prefix = std::move(prefix);
  std::error_code ec;
  if (!fs::is_directory(impl.dir, ec)) {
    fail(impl.path, "its directory '" + impl.dir.string() +
                        "' does not exist on this host: every rank must see the checkpoint (a shared file system)");
  }
  return ck;
}

void Checkpoint::declare_run(std::uint32_t run, std::uint64_t fingerprint) {
  std::lock_guard lock(m_impl->mutex);
  auto [it, fresh] = m_impl->fingerprints.emplace(run, fingerprint);
  if (!fresh && it->second != fingerprint) {
    fail(m_impl->path, "run " + std::to_string(run) + " was declared with fingerprints " + to_hex(it->second) +
                           " and " + to_hex(fingerprint));
  }
}

bool Checkpoint::contains(std::uint32_t run, std::string_view key) const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->index.count(entry_key(run, key)) != 0;
}

Value Checkpoint::find(std::uint32_t run, std::string_view key) {
  Location loc;
  {
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->index.find(entry_key(run, key));
    if (it == m_impl->index.end()) return {};
    loc = it->second;
    ++m_impl->stats.loaded;
  }
  return m_impl->read(loc);
}

void Checkpoint::add(std::uint32_t run, std::string_view key, const Value& value) {
  std::shared_ptr<const Bytes> bytes;
  try {
    bytes = value.bytes();
  } catch (const SerializationError&) {
    std::lock_guard lock(m_impl->mutex);
    ++m_impl->stats.not_serializable;
    return;
  }
  std::lock_guard lock(m_impl->mutex);
  auto& b = m_impl->batch;
  if (b.size() == 0) b.first = std::chrono::steady_clock::now();
  b.runs.push_back(run);
  b.keys.insert(b.keys.end(), reinterpret_cast<const std::uint8_t*>(key.data()),
                reinterpret_cast<const std::uint8_t*>(key.data()) + key.size());
  b.key_offsets.push_back(b.keys.size());
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes->data());
  b.values.insert(b.values.end(), p, p + bytes->size());
  b.value_offsets.push_back(b.values.size());
  ++m_impl->stats.written;
  m_impl->stats.bytes_written += bytes->size();
  const auto& o = m_impl->options;
  if (b.values.size() >= o.batch_bytes || b.size() >= o.batch_results ||
      std::chrono::steady_clock::now() - b.first >= o.batch_seconds) {
    m_impl->seal();
  }
}

void Checkpoint::flush() {
  std::lock_guard lock(m_impl->mutex);
  m_impl->seal();
}

const std::string& Checkpoint::path() const noexcept { return m_impl->path; }

Checkpoint::Stats Checkpoint::stats() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->stats;
}

std::shared_ptr<Checkpoint> process_checkpoint() {
  static std::mutex mutex;
  static bool resolved = false;
  static std::shared_ptr<Checkpoint> checkpoint;
  std::lock_guard lock(mutex);
  if (!resolved) {
    if (const auto& path = detail::runtime_config().checkpoint) checkpoint = std::make_shared<Checkpoint>(*path);
    resolved = true;
  }
  return checkpoint;
}

}  // namespace tessera
