#include "tensor/dispatch.h"

namespace anvil {

namespace {

struct KernelEntry {
  void* fn = nullptr;
  DTypeSet dtypes;
};

// Constant-initialized, so kernel files may register from their static initializers in any order.
KernelEntry g_table[kNumOps][kNumBackends];

constexpr const char* kOpNames[] = {
#define ANVIL_OP_NAME(name, sig) #name,
    ANVIL_OP_LIST(ANVIL_OP_NAME)
#undef ANVIL_OP_NAME
};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == kNumOps);

thread_local bool t_reference_mode = false;

}  // namespace

const char* op_name(OpId op) { return kOpNames[static_cast<int>(op)]; }

const char* backend_name(Backend b) {
  constexpr const char* names[] = {"cpu", "cuda", "reference"};
  return names[static_cast<int>(b)];
}

ReferenceModeGuard::ReferenceModeGuard() : previous_(t_reference_mode) { t_reference_mode = true; }
ReferenceModeGuard::~ReferenceModeGuard() { t_reference_mode = previous_; }
bool ReferenceModeGuard::active() { return t_reference_mode; }

Backend backend_for(Device device) {
  if (device.is_cuda()) return Backend::cuda;
  return t_reference_mode ? Backend::ref : Backend::cpu;
}

namespace detail {

void register_kernel(OpId op, Backend backend, DTypeSet dtypes, void* fn) {
  KernelEntry& e = g_table[static_cast<int>(op)][static_cast<int>(backend)];
  e.fn = fn;
  e.dtypes = dtypes;
}

void* lookup_kernel(OpId op, Backend backend, DType dtype) {
  const KernelEntry* e = &g_table[static_cast<int>(op)][static_cast<int>(backend)];
  if (backend == Backend::ref && !(e->fn && e->dtypes.contains(dtype))) {
    e = &g_table[static_cast<int>(op)][static_cast<int>(Backend::cpu)];
  }
  if (!e->fn || !e->dtypes.contains(dtype)) {
    throw NotSupportedError(fmt::format("no {} kernel for {} ({}){}", backend_name(backend),
                                        op_name(op), dtype_name(dtype),
                                        e->fn ? "" : ": the op has no kernel on this backend"));
  }
  return e->fn;
}

}  // namespace detail

bool has_kernel(OpId op, Backend backend, DType dtype) {
  const KernelEntry& e = g_table[static_cast<int>(op)][static_cast<int>(backend)];
  return e.fn && e.dtypes.contains(dtype);
}

}  // namespace anvil
