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

namespace ops {

Tensor& copy_(Tensor& self, const Tensor& src) {
  ANVIL_CHECK(src.defined(), "copy_: the source tensor is undefined");
  Shape b = broadcast_shapes(self.shape(), src.shape(), "copy_");
  ANVIL_CHECK(b == self.shape(), "copy_: source {} cannot be broadcast to destination {}",
              src.describe(), self.describe());
  copy_impl(self, src, false);
  self.bump_version();
  return self;
}

Tensor& fill_(Tensor& self, const Scalar& value) {
  if (self.numel() > 0) kernel<OpId::fill>(self.device(), self.dtype())(self, value);
  self.bump_version();
  return self;
}

Tensor& fill_(Tensor& self, const Tensor& value) {
  ANVIL_CHECK(value.dim() == 0, "fill_: expected a 0-d value tensor, got {}", value.describe());
  return fill_(self, value.item());
}

Tensor& zero_(Tensor& self) {
  return fill_(self, Scalar(0));
}

Tensor contiguous(const Tensor& self) {
  return self.is_contiguous() ? self : self.clone();
}

Tensor clone(const Tensor& self) {
  Tensor out = empty(self.shape(), TensorOptions(self.dtype(), self.device()));
  copy_impl(out, self, false);
  return out;
}

Tensor to(const Tensor& self, DType t) {
  if (t == self.dtype()) return self;
  Tensor out = empty(self.shape(), TensorOptions(t, self.device()));
  copy_impl(out, self, false);
  return out;
}

Tensor to(const Tensor& self, Device d, bool non_blocking) {
  return to(self, d, self.dtype(), non_blocking);
}

Tensor to(const Tensor& self, Device d, DType t, bool non_blocking) {
  if (d == self.device() && t == self.dtype()) return self;
  Tensor out = empty(self.shape(), TensorOptions(t, d));
  copy_impl(out, self, non_blocking);
  return out;
}

}  // namespace ops

}  // namespace anvil
