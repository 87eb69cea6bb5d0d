// Autocast: which ops cast to the lower precision dtype and which to f32 (PyTorch's CPU lists),
// differentiable casts (f32 gradients close to the f32 run's), nesting and restoring, device-type
// isolation, thread locality, checkpoint recomputation under the forward's autocast, and an op
// whose kernel lacks the autocast dtype running uncast instead of failing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "anvil.h"
#include "common/op_test.h"

namespace anvil {
namespace {

using testing::expect_error;

Tensor randn_f32(const Shape& shape, uint64_t seed) {
  return testing::random_tensor(shape, DType::f32, -1, 1, seed);
}

// max |a - b| / max |b|.
double relative_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double err = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err = std::max(err, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return err / scale;
}

TEST(Autocast, LowerPrecisionOpsComputeInTheAutocastDtype) {
  const Tensor x = randn_f32({4, 8}, 1), w = randn_f32({3, 8}, 2), b = randn_f32({3}, 3);
  const Tensor img = randn_f32({2, 3, 6, 6}, 4), k = randn_f32({5, 3, 3, 3}, 5);
  const Tensor q = randn_f32({2, 4, 8}, 6);
  AutocastGuard autocast(DeviceType::cpu, DType::bf16);
  EXPECT_EQ(linear(x, w, b).dtype(), DType::bf16);
  EXPECT_EQ(matmul(x, w.mT()).dtype(), DType::bf16);
  EXPECT_EQ(mm(x, w.mT()).dtype(), DType::bf16);
  EXPECT_EQ(bmm(q, q.mT()).dtype(), DType::bf16);
  EXPECT_EQ(addmm(b, x, w.mT()).dtype(), DType::bf16);
  EXPECT_EQ(x.matmul(w.mT()).dtype(), DType::bf16);
  EXPECT_EQ(conv2d(img, k, b.narrow(0, 0, 1).expand({5}).contiguous()).dtype(), DType::bf16);
  EXPECT_EQ(conv1d(img.select(2, 0), k.select(2, 0)).dtype(), DType::bf16);
  EXPECT_EQ(conv_transpose2d(img, k.transpose(0, 1).contiguous()).dtype(), DType::bf16);
  EXPECT_EQ(scaled_dot_product_attention(q, q, q).dtype(), DType::bf16);
  // f16 inputs go to the autocast dtype too; the values are those of the bf16 computation.
  EXPECT_EQ(linear(x.to(DType::f16), w).dtype(), DType::bf16);
  const Tensor want = linear(x.to(DType::bf16), w.to(DType::bf16), b.to(DType::bf16));
  EXPECT_TRUE(testing::all_close(linear(x, w, b), want, {0, 0}));
  // f64 and integers are never cast.
  EXPECT_EQ(linear(x.to(DType::f64), w.to(DType::f64)).dtype(), DType::f64);
  EXPECT_EQ(matmul(x.to(DType::i64), w.mT().to(DType::i64)).dtype(), DType::i64);
}

TEST(Autocast, Float32OpsAndTheRestFollowPyTorchsCpuLists) {
  const Tensor logits = randn_f32({4, 5}, 7).to(DType::bf16);
  const Tensor target = tensor<int64_t>({0, 3, 1, 4});
  AutocastGuard autocast(DeviceType::cpu);
  EXPECT_EQ(AutocastMode::dtype(DeviceType::cpu), DType::bf16);  // the CPU's default
  // The float32 list: losses and prod compute in f32.
  EXPECT_EQ(cross_entropy(logits, target).dtype(), DType::f32);
  EXPECT_EQ(nll_loss(log_softmax(logits, 1), target).dtype(), DType::f32);
  EXPECT_EQ(mse_loss(logits, logits).dtype(), DType::f32);
  EXPECT_EQ(l1_loss(logits, logits).dtype(), DType::f32);
  EXPECT_EQ(smooth_l1_loss(logits, logits).dtype(), DType::f32);
  EXPECT_EQ(huber_loss(logits, logits).dtype(), DType::f32);
  EXPECT_EQ(binary_cross_entropy(sigmoid(logits), sigmoid(logits)).dtype(), DType::f32);
  EXPECT_EQ(binary_cross_entropy_with_logits(logits, sigmoid(logits)).dtype(), DType::f32);
  EXPECT_EQ(prod(logits).dtype(), DType::f32);
  // The cast loss is the f32 loss of the bf16 logits, with a bf16 class weight cast as well.
  const Tensor weight = tensor<float>({1, 2, 1, 2, 1}).to(DType::bf16);
  const Tensor ce = cross_entropy(logits, target, {.weight = weight});
  EXPECT_TRUE(testing::all_close(
      ce, cross_entropy(logits.to(DType::f32), target, {.weight = weight.to(DType::f32)}), {0, 0}));
  // Off both lists on the CPU (softmax, norms, sum, elementwise): the inputs' dtype, as
  // torch.cpu.amp.autocast; binary ops promote.
  EXPECT_EQ(softmax(logits, 1).dtype(), DType::bf16);
  EXPECT_EQ(softmax(logits.to(DType::f32), 1).dtype(), DType::f32);
  EXPECT_EQ(layer_norm(logits, {5}).dtype(), DType::bf16);
  EXPECT_EQ(logits.sum().dtype(), DType::bf16);
  EXPECT_EQ(exp(logits).dtype(), DType::bf16);
  EXPECT_EQ((logits + logits.to(DType::f32)).dtype(), DType::f32);
}

TEST(Autocast, GuardsNestAndRestore) {
  const Tensor x = randn_f32({2, 4}, 8), w = randn_f32({3, 4}, 9);
  EXPECT_FALSE(AutocastMode::is_enabled(DeviceType::cpu));
  EXPECT_EQ(linear(x, w).dtype(), DType::f32);
  {
    AutocastGuard outer(DeviceType::cpu, DType::bf16);
    EXPECT_TRUE(AutocastMode::is_enabled(DeviceType::cpu));
    EXPECT_EQ(linear(x, w).dtype(), DType::bf16);
    {
      AutocastGuard off(DeviceType::cpu, DType::bf16, /*enabled=*/false);
      EXPECT_FALSE(AutocastMode::any_enabled());
      EXPECT_EQ(linear(x, w).dtype(), DType::f32);
      {
        AutocastGuard f16(DeviceType::cpu, DType::f16);  // f16 on the CPU works (via f32 kernels)
        EXPECT_EQ(linear(x, w).dtype(), DType::f16);
        EXPECT_EQ(conv2d(x.reshape({1, 1, 2, 4}), w.reshape({3, 1, 2, 2})).dtype(), DType::f16);
      }
      EXPECT_EQ(linear(x, w).dtype(), DType::f32);
    }
    EXPECT_EQ(linear(x, w).dtype(), DType::bf16);
    EXPECT_EQ(AutocastMode::dtype(DeviceType::cpu), DType::bf16);
  }
  EXPECT_FALSE(AutocastMode::is_enabled(DeviceType::cpu));
  EXPECT_EQ(linear(x, w).dtype(), DType::f32);
  expect_error([] { AutocastGuard bad(DeviceType::cpu, DType::f32); },
               {"autocast", "f16 or bf16", "f32"});
  EXPECT_FALSE(AutocastMode::is_enabled(DeviceType::cpu));  // a failed guard changes nothing
}

TEST(Autocast, AnotherDeviceTypesAutocastLeavesCpuOpsAlone) {
  const Tensor x = randn_f32({2, 4}, 10), w = randn_f32({3, 4}, 11);
  AutocastGuard cuda(DeviceType::cuda);
  EXPECT_TRUE(AutocastMode::is_enabled(DeviceType::cuda));
  EXPECT_EQ(AutocastMode::dtype(DeviceType::cuda), DType::f16);
  EXPECT_FALSE(AutocastMode::is_enabled(DeviceType::cpu));
  EXPECT_EQ(linear(x, w).dtype(), DType::f32);
  EXPECT_EQ(cross_entropy(x.to(DType::bf16), tensor<int64_t>({0, 1})).dtype(), DType::bf16);
}

TEST(Autocast, StateIsPerThread) {
  AutocastGuard autocast(DeviceType::cpu);
  bool other_enabled = true;
  DType other_dtype = DType::f32;
  std::thread([&] {
    other_enabled = AutocastMode::is_enabled(DeviceType::cpu);
    other_dtype = linear(randn_f32({2, 4}, 12), randn_f32({3, 4}, 13)).dtype();
  }).join();
  EXPECT_FALSE(other_enabled);
  EXPECT_EQ(other_dtype, DType::f32);
}

// A small conv + MLP classifier with f32 parameters.
struct Net {
  Tensor conv_w = (randn_f32({4, 3, 3, 3}, 20) * 0.5).detach().requires_grad_();
  Tensor conv_b = (randn_f32({4}, 21) * 0.1).detach().requires_grad_();
  Tensor fc1_w = (randn_f32({16, 64}, 22) * 0.2).detach().requires_grad_();
  Tensor fc1_b = (randn_f32({16}, 23) * 0.1).detach().requires_grad_();
  Tensor fc2_w = (randn_f32({5, 16}, 24) * 0.3).detach().requires_grad_();
  std::vector<Tensor> params() const { return {conv_w, conv_b, fc1_w, fc1_b, fc2_w}; }

  // conv and fc1 with the given parameters {conv_w, conv_b, fc1_w, fc1_b}.
  static Tensor features(const Tensor& x, const std::vector<Tensor>& p) {
    Tensor h = relu(conv2d(x, p[0], p[1], {.stride = 2, .padding = {1, 1}}));
    return relu(linear(h.flatten(1), p[2], p[3]));
  }
  Tensor features(const Tensor& x) const { return features(x, {conv_w, conv_b, fc1_w, fc1_b}); }
  Tensor loss(const Tensor& x, const Tensor& y) const {
    return cross_entropy(linear(features(x), fc2_w), y);
  }
};

std::vector<Tensor> grads_of(const Net& net, const Tensor& loss) {
  for (Tensor p : net.params()) p.set_grad(Tensor());
  loss.backward();
  std::vector<Tensor> g;
  for (const Tensor& p : net.params()) g.push_back(p.grad().clone());
  return g;
}

TEST(Autocast, GradientsOfF32ParametersAreF32AndCloseToTheF32Run) {
  const Net net;
  const Tensor x = randn_f32({6, 3, 8, 8}, 30);
  const Tensor y = tensor<int64_t>({0, 1, 2, 3, 4, 0});
  const std::vector<Tensor> want = grads_of(net, net.loss(x, y));
  Tensor loss;
  {
    AutocastGuard autocast(DeviceType::cpu, DType::bf16);
    loss = net.loss(x, y);
  }
  EXPECT_EQ(loss.dtype(), DType::f32);
  const std::vector<Tensor> got = grads_of(net, loss);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].dtype(), DType::f32) << "parameter " << i;
    EXPECT_LT(relative_error(got[i], want[i]), 3e-2) << "parameter " << i;
  }
}

TEST(Autocast, CheckpointRecomputesUnderTheForwardsAutocast) {
  const Net net;
  const Tensor x = randn_f32({4, 3, 8, 8}, 31);
  const Tensor y = tensor<int64_t>({4, 3, 2, 1});
  auto head = [&](const Tensor& h) { return cross_entropy(linear(h, net.fc2_w), y); };
  Tensor plain_loss, checkpointed_loss;
  {
    AutocastGuard autocast(DeviceType::cpu);
    plain_loss = head(net.features(x));
    // The parameters are inputs of the segment, so that their gradients flow through it.
    const std::vector<Tensor> h = autograd::checkpoint(
        [](const std::vector<Tensor>& in) {
          return std::vector<Tensor>{Net::features(in[0], {in[1], in[2], in[3], in[4]})};
        },
        {x, net.conv_w, net.conv_b, net.fc1_w, net.fc1_b});
    EXPECT_EQ(h[0].dtype(), DType::bf16);
    checkpointed_loss = head(h[0]);
  }
  // The backward runs outside the guard; the recomputation is bf16 again, so it is exact.
  const std::vector<Tensor> want = grads_of(net, plain_loss);
  const std::vector<Tensor> got = grads_of(net, checkpointed_loss);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(testing::all_close(got[i], want[i], {0, 0})) << "parameter " << i;
  }
}

// Restricts the CPU gemm kernel to f32 and f64 while alive.
class GemmWithoutReducedTypes {
 public:
  GemmWithoutReducedTypes() : fn_(detail::lookup_kernel(OpId::gemm, Backend::cpu, DType::f32)) {
    detail::register_kernel(OpId::gemm, Backend::cpu, {DType::f32, DType::f64}, fn_);
  }
  ~GemmWithoutReducedTypes() { detail::register_kernel(OpId::gemm, Backend::cpu, kAllTypes, fn_); }

 private:
  void* fn_;
};

TEST(Autocast, AnOpWhoseKernelLacksTheDtypeRunsUncast) {
  const Tensor x = randn_f32({2, 4}, 40), w = randn_f32({3, 4}, 41);
  AutocastGuard autocast(DeviceType::cpu);
  const GemmWithoutReducedTypes restricted;
  EXPECT_FALSE(has_kernel(OpId::gemm, Backend::cpu, DType::bf16));
  EXPECT_EQ(linear(x, w).dtype(), DType::f32);
  EXPECT_EQ(matmul(x, w.mT()).dtype(), DType::f32);
}

}  // namespace
}  // namespace anvil
