// The kernel table: for every op of the op list and every backend, a function pointer and the
// dtypes it accepts. Front-ends look kernels up here; kernel files register themselves with
// ANVIL_REGISTER_KERNEL. Each op family declares its ops (name and kernel signature) in an
// X-macro list in its header, tensor/ops/<family>.h; this file joins those lists into OpId.
#pragma once

#include <type_traits>

#include "tensor/ops/attention.h"
#include "tensor/ops/binary.h"
#include "tensor/ops/conv.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/index.h"
#include "tensor/ops/linalg.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/norm.h"
#include "tensor/ops/optim.h"
#include "tensor/ops/pool.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/unary.h"
#include "tensor/tensor.h"

namespace anvil {

#define ANVIL_OP_LIST(X) \
  ANVIL_COPY_OPS(X)      \
  ANVIL_FACTORY_OPS(X)   \
  ANVIL_UNARY_OPS(X)     \
  ANVIL_BINARY_OPS(X)    \
  ANVIL_REDUCE_OPS(X)    \
  ANVIL_LINALG_OPS(X)    \
  ANVIL_INDEX_OPS(X)     \
  ANVIL_CONV_OPS(X)      \
  ANVIL_POOL_OPS(X)      \
  ANVIL_NORM_OPS(X)      \
  ANVIL_LOSS_OPS(X)      \
  ANVIL_OPTIM_OPS(X)     \
  ANVIL_ATTENTION_OPS(X)

enum class OpId : uint16_t {
#define ANVIL_OP_ENUM(name, sig) name,
  ANVIL_OP_LIST(ANVIL_OP_ENUM)
#undef ANVIL_OP_ENUM
      kCount
};
inline constexpr int kNumOps = static_cast<int>(OpId::kCount);

const char* op_name(OpId op);

// The kernel signature type of each op.
template <OpId op>
struct OpSignature;
#define ANVIL_OP_SIGNATURE(name, sig) \
  template <>                         \
  struct OpSignature<OpId::name> {    \
    using type = sig;                 \
  };
ANVIL_OP_LIST(ANVIL_OP_SIGNATURE)
#undef ANVIL_OP_SIGNATURE

// cpu and cuda are where tensors live; ref is the float64 ground truth that tests compare the
// cpu kernels against. It runs on CPU tensors while a ReferenceModeGuard is alive.
enum class Backend : uint8_t { cpu, cuda, ref };
inline constexpr int kNumBackends = 3;
const char* backend_name(Backend b);

// While alive on this thread, ops on CPU tensors run their ref kernel where one is registered
// (infrastructure ops without one, like copy, fall back to cpu).
class ReferenceModeGuard {
 public:
  ReferenceModeGuard();
  ~ReferenceModeGuard();
  ReferenceModeGuard(const ReferenceModeGuard&) = delete;
  ReferenceModeGuard& operator=(const ReferenceModeGuard&) = delete;
  static bool active();

 private:
  bool previous_;
};

namespace detail {
void register_kernel(OpId op, Backend backend, DTypeSet dtypes, void* fn);
// Throws NotSupportedError ("no cuda kernel for conv2d (bf16)") when nothing is registered.
void* lookup_kernel(OpId op, Backend backend, DType dtype);
struct KernelRegistrar {
  KernelRegistrar(OpId op, Backend backend, DTypeSet dtypes, void* fn) {
    register_kernel(op, backend, dtypes, fn);
  }
};
}  // namespace detail

bool has_kernel(OpId op, Backend backend, DType dtype);

// The backend that runs ops on tensors of this device (ref on CPU under ReferenceModeGuard).
Backend backend_for(Device device);

// The kernel for an op on a device and dtype, typed.
template <OpId op>
typename OpSignature<op>::type kernel(Device device, DType dtype) {
  return reinterpret_cast<typename OpSignature<op>::type>(
      detail::lookup_kernel(op, backend_for(device), dtype));
}

#define ANVIL_CONCAT_IMPL(a, b) a##b
#define ANVIL_CONCAT(a, b) ANVIL_CONCAT_IMPL(a, b)

// Registers `fn` as the kernel of `op` on `backend` for the DTypeSet `dtypes`, checking at
// compile time that its type is the op's signature. Use at namespace scope in a kernel file.
#define ANVIL_REGISTER_KERNEL(op, backend, dtypes, fn)                                        \
  static_assert(                                                                              \
      std::is_convertible_v<decltype(fn), ::anvil::OpSignature<::anvil::OpId::op>::type>,     \
      "kernel for " #op " has the wrong signature");                                          \
  static ::anvil::detail::KernelRegistrar ANVIL_CONCAT(anvil_kernel_registrar_, __COUNTER__)( \
      ::anvil::OpId::op, ::anvil::Backend::backend, dtypes,                                   \
      reinterpret_cast<void*>(static_cast<::anvil::OpSignature<::anvil::OpId::op>::type>(fn)))

}  // namespace anvil
