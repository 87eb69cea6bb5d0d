// Errors: every failure in anvil is an exception derived from anvil::Error. Library code never
// aborts; messages name the operation, the values involved and what was expected.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace anvil {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller passed something the operation cannot accept (shape, dtype, device, value).
class ValueError : public Error {
 public:
  using Error::Error;
};

// An index or dimension out of range.
class IndexError : public Error {
 public:
  using Error::Error;
};

// No kernel is registered for an (op, backend, dtype).
class NotSupportedError : public Error {
 public:
  using Error::Error;
};

// Out of memory on a device, after the caching allocator freed what it could.
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

// A violated invariant inside anvil: a bug in anvil, not in the caller.
class InternalError : public Error {
 public:
  using Error::Error;
};

}  // namespace anvil

// ANVIL_CHECK(cond, "fmt", args...) throws ValueError with the formatted message.
#define ANVIL_CHECK(cond, ...)                                    \
  do {                                                            \
    if (!(cond)) throw ::anvil::ValueError(fmt::format(__VA_ARGS__)); \
  } while (0)

#define ANVIL_CHECK_INDEX(cond, ...)                              \
  do {                                                            \
    if (!(cond)) throw ::anvil::IndexError(fmt::format(__VA_ARGS__)); \
  } while (0)

#define ANVIL_INTERNAL_ASSERT(cond)                                                          \
  do {                                                                                       \
    if (!(cond))                                                                             \
      throw ::anvil::InternalError(                                                          \
          fmt::format("internal error: {} failed at {}:{} (a bug in anvil, please report)", \
                      #cond, __FILE__, __LINE__));                                           \
  } while (0)
