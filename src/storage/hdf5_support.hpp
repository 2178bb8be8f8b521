#pragma once

// Private helpers for the HDF5 code of the storage layer: one-time library setup and the text of
// HDF5's error stack. Callers must hold detail::hdf5_mutex().

#include <hdf5.h>

#include <string>

namespace tessera::detail {

/// Initialises HDF5 once per process and turns off its automatic error printing (errors are
/// reported through exceptions instead). Caller holds hdf5_mutex().
void hdf5_init();

/// The innermost messages of HDF5's current error stack ("...; errno = 28, error message = 'No
/// space left on device'"), then clears the stack. Caller holds hdf5_mutex().
std::string hdf5_error_text();

/// Closes an HDF5 identifier of any kind when it goes out of scope.
class Hdf5Id {
public:
  Hdf5Id() noexcept = default;
  explicit Hdf5Id(hid_t id) noexcept : m_id(id) {}
  ~Hdf5Id() { reset(); }
  Hdf5Id(const Hdf5Id&) = delete;
  Hdf5Id& operator=(const Hdf5Id&) = delete;
  Hdf5Id(Hdf5Id&& other) noexcept : m_id(other.m_id) { other.m_id = H5I_INVALID_HID; }
  Hdf5Id& operator=(Hdf5Id&& other) noexcept {
    if (this != &other) {
      reset();
      m_id = other.m_id;
      other.m_id = H5I_INVALID_HID;
    }
    return *this;
  }

  [[nodiscard]] hid_t get() const noexcept { return m_id; }
  [[nodiscard]] bool valid() const noexcept { return m_id >= 0; }
  /// Closes the identifier now; returns false if HDF5 reported a failure.
  bool reset() noexcept;
  /// Forgets the identifier without closing it (it was closed by a type-specific call).
  hid_t release() noexcept {
    const hid_t id = m_id;
    m_id = H5I_INVALID_HID;
    return id;
  }

private:
  hid_t m_id = H5I_INVALID_HID;
};

}  // namespace tessera::detail
