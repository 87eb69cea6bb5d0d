// A reduced network with every layer kind of nn gives PyTorch's state-dict names, outputs,
// losses, parameter gradients and updated BatchNorm buffers in one training step, and PyTorch's
// outputs in eval mode: the values come from tests/golden/make_nn_golden.py (float64, weights and
// inputs included), loaded through load_state_dict so that the names are checked too.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anvil.h"
#include "common/golden.h"

namespace anvil {
namespace {

using nn::ModulePtr;
using testing::expect_close;
using testing::Golden;
using testing::load_golden;

std::shared_ptr<nn::Sequential> sequential(const std::vector<ModulePtr>& modules) {
  return std::make_shared<nn::Sequential>(modules);
}

// Images [8, 3, 9, 9] -> class logits [8, 5] and sigmoid regression values [8, 3].
struct VisionNet : nn::Module {
  std::shared_ptr<nn::Sequential> stem = register_module(
      "stem", sequential({std::make_shared<nn::Conv2d>(
                              3, 8, 3, nn::Conv2dOptions{.padding = 1, .bias = false}),
                          std::make_shared<nn::BatchNorm2d>(8), std::make_shared<nn::ReLU>()}));
  std::shared_ptr<nn::ModuleList> blocks = register_module(
      "blocks",
      std::make_shared<nn::ModuleList>(std::vector<ModulePtr>{
          // 9x9 -> 5x5
          sequential({std::make_shared<nn::Conv2d>(
                          8, 8, 3,
                          nn::Conv2dOptions{.stride = 2, .padding = 2, .dilation = 2, .groups = 2}),
                      std::make_shared<nn::GroupNorm>(4, 8), std::make_shared<nn::LeakyReLU>(0.1)}),
          // 5x5 -> 10x10
          sequential(
              {std::make_shared<nn::ConvTranspose2d>(
                   8, 4, 3,
                   nn::ConvTranspose2dOptions{.stride = 2, .padding = 1, .output_padding = 1}),
               std::make_shared<nn::SiLU>()}),
      }));
  std::shared_ptr<nn::ModuleDict> pools = register_module("pools", make_pools());
  std::shared_ptr<nn::Flatten> flatten =
      register_module("flatten", std::make_shared<nn::Flatten>());
  std::shared_ptr<nn::Sequential> head = register_module(
      "head",
      sequential(
          {std::make_shared<nn::Linear>(36, 12), std::make_shared<nn::GELU>(),
           std::make_shared<nn::BatchNorm1d>(12, nn::BatchNormOptions{.momentum = std::nullopt}),
           std::make_shared<nn::Dropout>(0.0), std::make_shared<nn::Linear>(12, 5)}));
  std::shared_ptr<nn::Sequential> aux = register_module(
      "aux", sequential({std::make_shared<nn::Linear>(36, 3), std::make_shared<nn::Sigmoid>()}));

  static std::shared_ptr<nn::ModuleDict> make_pools() {
    auto pools = std::make_shared<nn::ModuleDict>();
    pools->insert("max", std::make_shared<nn::MaxPool2d>(
                             std::vector<int64_t>{3},
                             MaxPool2dOptions{.stride = {2}, .padding = {1}}));  // 5x5
    // ceil_mode's last window hangs over the padding; the divisor counts only the input.
    pools->insert(
        "avg",
        std::make_shared<nn::AvgPool2d>(
            std::vector<int64_t>{3},
            AvgPool2dOptions{
                .stride = {2}, .padding = {1}, .ceil_mode = true, .count_include_pad = false}));
    // 6x6, the divisor counts the padding.
    pools->insert("avg_pad", std::make_shared<nn::AvgPool2d>(std::vector<int64_t>{2},
                                                             AvgPool2dOptions{.padding = {1}}));
    // Overlapping windows on 10 rows.
    pools->insert("adaptive", std::make_shared<nn::AdaptiveAvgPool2d>(
                                  std::vector<std::optional<int64_t>>{3, 2}));
    return pools;
  }

  std::pair<Tensor, Tensor> run(const Tensor& images) {
    Tensor h = stem->forward(images);
    for (const ModulePtr& block : *blocks) h = block->forward(h);
    std::vector<Tensor> features;
    for (const char* key : {"max", "avg", "avg_pad"}) {
      features.push_back(pools->at(key)->forward(h).mean({2, 3}));
    }
    features.push_back(flatten->forward(pools->at("adaptive")->forward(h)));
    const Tensor f = cat(features, 1);
    return {head->forward(f), aux->forward(f)};
  }
};

// Tokens [3, 7] -> class probabilities [3, 4] and binary logits [3, 3].
struct TokenNet : nn::Module {
  std::shared_ptr<nn::Embedding> embed = register_module(
      "embed", std::make_shared<nn::Embedding>(11, 8, nn::EmbeddingLayerOptions{.padding_idx = 0}));
  std::shared_ptr<nn::LayerNorm> norm =
      register_module("norm", std::make_shared<nn::LayerNorm>(Shape{8}));
  std::shared_ptr<nn::Sequential> mlp = register_module(
      "mlp",
      sequential({std::make_shared<nn::Linear>(8, 16), std::make_shared<nn::GELU>(GeluApprox::tanh),
                  std::make_shared<nn::Linear>(16, 8, nn::LinearOptions{.bias = false})}));
  std::shared_ptr<nn::MultiheadAttention> attn =
      register_module("attn", std::make_shared<nn::MultiheadAttention>(
                                  8, 2, nn::MultiheadAttentionOptions{.batch_first = true}));
  std::shared_ptr<nn::RMSNorm> rms = register_module(
      "rms", std::make_shared<nn::RMSNorm>(Shape{8}, nn::RMSNormOptions{.eps = 1e-6}));
  std::shared_ptr<nn::Conv1d> conv = register_module(
      "conv", std::make_shared<nn::Conv1d>(
                  8, 6, 3, nn::Conv1dOptions{.padding = 2, .dilation = 2, .groups = 2}));
  std::shared_ptr<nn::BatchNorm1d> bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(6));
  std::shared_ptr<nn::Tanh> act = register_module("act", std::make_shared<nn::Tanh>());
  std::shared_ptr<nn::Identity> skip = register_module("skip", std::make_shared<nn::Identity>());
  std::shared_ptr<nn::Sequential> probs = register_module(
      "probs", sequential({std::make_shared<nn::Linear>(6, 4), std::make_shared<nn::Softmax>(-1)}));
  std::shared_ptr<nn::Linear> logits =
      register_module("logits", std::make_shared<nn::Linear>(6, 3));

  std::pair<Tensor, Tensor> run(const Tensor& tokens) {
    Tensor h = norm->forward(embed->forward(tokens));
    h = h + mlp->forward(h);
    // Self-attention with a float mask and a key-padding mask (every row keeps some keys),
    // returning the head-averaged weights too.
    const Tensor i = arange(h.size(1), h.dtype());
    const Tensor distance_bias = -(i.unsqueeze(1) - i.unsqueeze(0)).abs() / 4;
    const auto [a, w] =
        attn->forward(h, h, h, {.key_padding_mask = eq(tokens, 0), .attn_mask = distance_bias});
    h = h + a + w.mean({-1}, true);
    const Tensor c = bn->forward(act->forward(conv->forward(rms->forward(h).transpose(1, 2))));
    const Tensor pooled = skip->forward(c).mean({2});
    return {probs->forward(pooled), logits->forward(pooled)};
  }
};

using Outputs = std::map<std::string, Tensor>;

struct Net : nn::Module {
  std::shared_ptr<VisionNet> vision = register_module("vision", std::make_shared<VisionNet>());
  std::shared_ptr<TokenNet> tokens = register_module("tokens", std::make_shared<TokenNet>());

  Outputs run(const Tensor& images, const Tensor& token_ids) {
    const auto [logits, aux] = vision->run(images);
    const auto [probs, binary] = tokens->run(token_ids);
    return {{"logits", logits}, {"aux", aux}, {"probs", probs}, {"binary", binary}};
  }
};

// Every loss kind, with the script's arguments, from the outputs and the golden targets.
Outputs losses(const Outputs& out, const Golden& g, DType dtype) {
  const auto target = [&](const std::string& name) { return g.at("target." + name).to(dtype); };
  return {
      {"cross_entropy", cross_entropy(out.at("logits"), g.at("target.class").to(DType::i64),
                                      {.weight = target("class_weight"), .label_smoothing = 0.1})},
      {"smooth_l1", smooth_l1_loss(out.at("aux"), target("aux"), Reduction::mean, 0.5)},
      {"mse", mse_loss(out.at("probs"), target("probs"))},
      {"bce_with_logits", binary_cross_entropy_with_logits(out.at("binary"), target("binary"),
                                                           {.pos_weight = target("pos_weight")})},
  };
}

Tensor total(const Outputs& parts) {
  Tensor sum;
  for (const auto& [name, t] : parts) sum = sum.defined() ? sum + t : t;
  return sum;
}

TEST(GoldenNet, StateDictNamesAndShapesEqualPyTorchs) {
  EXPECT_EQ(testing::state_dict_entries(*std::make_shared<Net>()),
            testing::golden_lines("nn_net_state_dict.txt"));
}

class GoldenNetStep : public ::testing::TestWithParam<DType> {};

TEST_P(GoldenNetStep, TrainStepAndEvalPassMatchPyTorch) {
  const DType dtype = GetParam();
  // Against PyTorch's float64: float64 to 1e-9 relative (in practice ~1e-12); float32 to 1e-4
  // relative, with an absolute 1e-6 for elements that are small differences of large terms (the
  // bias gradient under a BatchNorm on 8 rows loses ~1e-6 to cancellation, as in PyTorch's own
  // float32 run).
  const double rtol = dtype == DType::f64 ? 1e-9 : 1e-4;
  const double atol = dtype == DType::f64 ? 1e-12 : 1e-6;
  const Golden g = load_golden("nn_net.txt");

  auto net_ptr = std::make_shared<Net>();
  Net& net = *net_ptr;
  net.to(dtype);
  // The script's state dict under its own names: a strict load fails on any name that differs.
  nn::NamedTensors state;
  for (const auto& [key, t] : g) {
    if (key.starts_with("state.")) state.emplace_back(key.substr(6), t);
  }
  net.load_state_dict(state);
  const Tensor images = g.at("input.images").to(dtype);
  const Tensor tokens = g.at("input.tokens").to(DType::i64);

  net.train();
  const Outputs out = net.run(images, tokens);
  for (const auto& [name, t] : out) expect_close(t, g.at("out." + name), rtol, atol, name);
  const Outputs parts = losses(out, g, dtype);
  for (const auto& [name, t] : parts) expect_close(t, g.at("loss." + name), rtol, atol, name);
  const Tensor loss = total(parts);
  expect_close(loss, g.at("loss"), rtol, atol, "loss");
  loss.backward();
  for (const auto& [name, p] : net.named_parameters()) {
    expect_close(p.grad(), g.at("grad." + name), rtol, atol, "grad of " + name);
  }
  EXPECT_EQ(amax(abs(net.tokens->embed->weight.grad().select(0, 0))).item<double>(), 0.0)
      << "the padding_idx row gets no gradient";
  // Running statistics (momentum 0.1, and the cumulative average 1/num_batches_tracked).
  std::map<std::string, Tensor> after;
  for (const auto& [name, b] : net.named_buffers()) {
    expect_close(b, g.at("after." + name), rtol, atol, name + " after the step");
    after[name] = b.clone();
  }

  net.eval();
  NoGradGuard no_grad;
  const Outputs eval_out = net.run(images, tokens);
  for (const auto& [name, t] : eval_out) {
    expect_close(t, g.at("eval." + name), rtol, atol, "eval " + name);
  }
  expect_close(total(losses(eval_out, g, dtype)), g.at("eval.loss"), rtol, atol, "eval loss");
  for (const auto& [name, b] : net.named_buffers()) {
    expect_close(b, after.at(name), 0, 0, name + " unchanged in eval");
  }
}

INSTANTIATE_TEST_SUITE_P(Nn, GoldenNetStep, ::testing::Values(DType::f64, DType::f32),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

}  // namespace
}  // namespace anvil
