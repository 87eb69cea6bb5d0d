// Copies between layouts, dtypes and devices; fills.
#include "tensor/ops/copy.h"

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

DeviceCopyFn g_device_copy[kNumDeviceTypes] = {};

// Copies same-shaped, same-dtype, contiguous tensors across devices.
void copy_bytes_across(const Tensor& dst, const Tensor& src, bool non_blocking) {
  const Device other = dst.is_cpu() ? src.device() : dst.device();
  DeviceCopyFn fn = g_device_copy[static_cast<int>(other.type)];
  if (!fn) {
    throw NotSupportedError(
        fmt::format("copy_: cannot copy {} to {}: this build of anvil has no CUDA backend",
                    src.describe(), dst.describe()));
  }
  fn(dst.raw_data(), dst.device(), src.raw_data(), src.device(), static_cast<size_t>(dst.nbytes()),
     non_blocking);
}

void copy_impl(const Tensor& dst, const Tensor& src_in, bool non_blocking) {
  const Tensor src = src_in.shape() == dst.shape() ? src_in : src_in.expand(dst.shape());
  if (dst.numel() == 0) return;
  if (dst.device() == src.device()) {
    // A source that shares memory with the destination is read from a copy, so that an
    // overlapping write (x.copy_(x.t())) never reads values it already overwrote.
    const Tensor from = src.shares_storage(dst) ? src.clone() : src;
    kernel<OpId::copy>(dst.device(), dst.dtype())(dst, from);
    return;
  }
  // Across devices: convert on the source side, move contiguous bytes, lay out on the
  // destination side.
  const Tensor staged = src.to(dst.dtype()).contiguous();
  if (dst.is_contiguous()) {
    copy_bytes_across(dst, staged, non_blocking);
  } else {
    Tensor tmp = empty(dst.shape(), TensorOptions(dst.dtype(), dst.device()));
    copy_bytes_across(tmp, staged, false);
    kernel<OpId::copy>(dst.device(), dst.dtype())(dst, tmp);
  }
}

}  // namespace

void register_device_copy(DeviceType type, DeviceCopyFn fn) {
  g_device_copy[static_cast<int>(type)] = fn;
}

Tensor& Tensor::copy_(const Tensor& src) {
  ANVIL_CHECK(src.defined(), "copy_: the source tensor is undefined");
  Shape b = broadcast_shapes(shape(), src.shape(), "copy_");
  ANVIL_CHECK(b == shape(), "copy_: source {} cannot be broadcast to destination {}",
              src.describe(), describe());
  copy_impl(*this, src, false);
  bump_version();
  return *this;
}

Tensor& Tensor::fill_(const Scalar& value) {
  if (numel() > 0) kernel<OpId::fill>(device(), dtype())(*this, value);
  bump_version();
  return *this;
}

Tensor& Tensor::fill_(const Tensor& value) {
  ANVIL_CHECK(value.dim() == 0, "fill_: expected a 0-d value tensor, got {}", value.describe());
  return fill_(value.item());
}

Tensor& Tensor::zero_() {
  return fill_(Scalar(0));
}

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), TensorOptions(dtype(), device()));
  copy_impl(out, *this, false);
  return out;
}

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor out = empty(shape(), TensorOptions(t, device()));
  copy_impl(out, *this, false);
  return out;
}

Tensor Tensor::to(Device d, bool non_blocking) const {
  return to(d, dtype(), non_blocking);
}

Tensor Tensor::to(Device d, DType t, bool non_blocking) const {
  if (d == device() && t == dtype()) return *this;
  Tensor out = empty(shape(), TensorOptions(t, d));
  copy_impl(out, *this, non_blocking);
  return out;
}

}  // namespace anvil
