// CUDA copy (any layouts, any dtype pair) and fill, and the byte mover between the host and
// devices that copy_ and to() use across devices.

#include <cuda_runtime_api.h>

#include <cstring>

#include "kernels/cuda/cast.cuh"
#include "kernels/cuda/index_math.h"
#include "tensor/cuda/cuda_runtime.h"
#include "tensor/cuda/pinned_memory.h"
#include "tensor/cuda/stream.h"
#include "tensor/dispatch.h"

namespace anvil::cuda {

namespace {

template <int N>
OffsetCalculator<N> offset_calculator(const std::array<const Tensor*, N>& ts) {
  const int nd = static_cast<int>(ts[0]->dim());
  ANVIL_CHECK(nd <= kMaxDims, "CUDA kernels support tensors of up to {} dims, got {}", kMaxDims,
              ts[0]->describe());
  int64_t byte_strides[N][kMaxDims];
  const int64_t* strides[N];
  for (int k = 0; k < N; ++k) {
    for (int d = 0; d < nd; ++d) byte_strides[k][d] = ts[k]->strides()[d] * ts[k]->element_size();
    strides[k] = byte_strides[k];
  }
  return make_offset_calculator<N>(nd, ts[0]->shape().data(), strides);
}

// Launches size their grid by the SM count (cached per device).
int sm_count(const Tensor& t) {
  return device_properties(t.device().index).multiprocessor_count;
}

template <class To, class From>
__global__ void copy_kernel(char* dst, const char* src, OffsetCalculator<2> calc, int64_t n) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[2];
    if (calc.ndim == 1) {
      off[0] = i * calc.strides[0][0];
      off[1] = i * calc.strides[0][1];
    } else {
      calc.offsets(i, off);
    }
    *reinterpret_cast<To*>(dst + off[0]) =
        device_cast<To>(*reinterpret_cast<const From*>(src + off[1]));
  }
}

// Contiguous fills store 16 bytes at a time (`pattern` holds the value repeated) between an
// unaligned head and a tail of single elements; strided fills store one element per index.
template <class T>
__global__ void fill_kernel(char* base, OffsetCalculator<1> calc, int64_t n, T value, uint4 pattern,
                            bool contiguous, int64_t head) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  if (!contiguous) {
    for (int64_t i = tid; i < n; i += step) {
      int64_t off[1];
      calc.offsets(i, off);
      *reinterpret_cast<T*>(base + off[0]) = value;
    }
    return;
  }
  T* p = reinterpret_cast<T*>(base);
  constexpr int64_t kVec = 16 / sizeof(T);
  const int64_t nvec = (n - head) / kVec;
  if (tid < head) p[tid] = value;
  uint4* v = reinterpret_cast<uint4*>(p + head);
  for (int64_t i = tid; i < nvec; i += step) v[i] = pattern;
  const int64_t tail = head + nvec * kVec;
  if (tail + tid < n) p[tail + tid] = value;
}

void fill(const Tensor& out, const Scalar& value) {
  DeviceGuard guard(out.device().index);
  const Stream stream = current_stream(out.device().index);
  const int64_t n = out.numel();
  const bool contiguous = out.is_contiguous();
  visit_dtype(out.dtype(), [&]<class T>() {
    const T v = value.to<T>();
    uint4 pattern;
    for (size_t k = 0; k < sizeof(pattern) / sizeof(T); ++k)
      std::memcpy(reinterpret_cast<char*>(&pattern) + k * sizeof(T), &v, sizeof(T));
    const int64_t head =
        elements_before_alignment(reinterpret_cast<uintptr_t>(out.raw_data()), sizeof(T), n);
    const LaunchConfig cfg = launch_config(n, contiguous ? 16 / sizeof(T) : 1, sm_count(out));
    fill_kernel<T><<<cfg.blocks, cfg.threads, 0, stream.handle()>>>(
        static_cast<char*>(out.raw_data()), offset_calculator<1>({&out}), n, v, pattern, contiguous,
        head);
  });
  ANVIL_CUDA_CHECK(cudaGetLastError());
}

void copy(const Tensor& dst, const Tensor& src) {
  DeviceGuard guard(dst.device().index);
  const Stream stream = current_stream(dst.device().index);
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    ANVIL_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(),
                                     static_cast<size_t>(dst.nbytes()), cudaMemcpyDeviceToDevice,
                                     stream.handle()));
    return;
  }
  const int64_t n = dst.numel();
  const OffsetCalculator<2> calc = offset_calculator<2>({&dst, &src});
  const LaunchConfig cfg = launch_config(n, 1, sm_count(dst));
  visit_dtype(dst.dtype(), [&]<class To>() {
    visit_dtype(src.dtype(), [&]<class From>() {
      copy_kernel<To, From><<<cfg.blocks, cfg.threads, 0, stream.handle()>>>(
          static_cast<char*>(dst.raw_data()), static_cast<const char*>(src.raw_data()), calc, n);
    });
  });
  ANVIL_CUDA_CHECK(cudaGetLastError());
}

// Moves contiguous bytes host<->device or device<->device on the current stream of the device
// involved (the destination's for peer copies).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes,
                bool non_blocking) {
  if (nbytes == 0) return;
  const Device gpu = dst_device.is_cuda() ? dst_device : src_device;
  DeviceGuard guard(gpu.index);
  const Stream stream = current_stream(gpu.index);
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    // The copy runs after the work queued on the source's stream, and the source's later work
    // (which may free and reuse `src`) runs after the copy.
    const Stream src_stream = current_stream(src_device.index);
    Event src_ready;
    src_ready.record(src_stream);
    src_ready.wait(stream);
    ANVIL_CUDA_CHECK(
        cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, stream.handle()));
    Event copied;
    copied.record(stream);
    copied.wait(src_stream);
  } else {
    ANVIL_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDefault, stream.handle()));
    // Pinned memory is read or written by the DMA engine after this returns: its block must
    // not be reused before the copy completes.
    if (non_blocking) record_pinned_use(dst_device.is_cpu() ? dst : src, stream);
  }
  if (!non_blocking) stream.synchronize();
}

const bool registered = [] {
  register_device_copy(DeviceType::cuda, copy_bytes);
  return true;
}();

}  // namespace

ANVIL_REGISTER_KERNEL(fill, cuda, kAllTypes, fill);
ANVIL_REGISTER_KERNEL(copy, cuda, kAllTypes, copy);

}  // namespace anvil::cuda
