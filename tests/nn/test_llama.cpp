// The Llama decoder: Hugging Face LlamaForCausalLM's parameter names and shapes, logits, loss
// and parameter gradients against a plain-torch implementation of the same model with seeded
// weights (tests/golden/make_attention_golden.py; f64 to 1e-9, f32 to 1e-4), tied embeddings,
// and a few optimizer steps on a repeated sequence driving the loss down.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "anvil.h"
#include "common/golden.h"
#include "common/op_test.h"

namespace anvil {
namespace {

using testing::Golden;
using testing::load_golden;

// The golden model's configuration.
nn::LlamaOptions golden_options(DType dtype) {
  return {.vocab_size = 32,
          .hidden_size = 16,
          .intermediate_size = 24,
          .num_hidden_layers = 2,
          .num_attention_heads = 4,
          .num_key_value_heads = 2,
          .max_position_embeddings = 16,
          .rms_norm_eps = 1e-6,
          .dtype = dtype};
}

void expect_close(const Tensor& actual, const Tensor& expected, double rtol,
                  const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what << " is undefined";
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  // Relative to the tensor's largest magnitude: small entries of a gradient are sums that
  // cancel, and carry the rounding of the large terms.
  double scale = 0;
  for (double x : e) scale = std::max(scale, std::abs(x));
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_LE(std::abs(a[i] - e[i]), rtol * scale)
        << what << " element " << i << ": " << a[i] << " vs PyTorch " << e[i];
  }
}

class LlamaGolden : public ::testing::TestWithParam<DType> {};

TEST_P(LlamaGolden, LogitsLossAndGradientsMatchPyTorch) {
  const DType dtype = GetParam();
  const double rtol = dtype == DType::f64 ? 1e-9 : 1e-4;
  const Golden g = load_golden("attention_llama.txt");
  auto model = std::make_shared<nn::LlamaForCausalLM>(golden_options(dtype));
  nn::NamedTensors state;
  for (const auto& [name, t] : model->state_dict()) state.emplace_back(name, g.at(name));
  model->load_state_dict(state);
  const Tensor ids = g.at("ids").to(DType::i64);
  const Tensor logits = model->forward(ids);
  expect_close(logits, g.at("logits"), rtol, "logits");
  const Tensor loss = nn::LlamaForCausalLM::loss(logits, ids);
  expect_close(loss, g.at("loss"), rtol, "loss");
  loss.backward();
  for (const auto& [name, p] : model->named_parameters()) {
    if (g.count("grad." + name)) expect_close(p.grad(), g.at("grad." + name), rtol, "grad " + name);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LlamaGolden, ::testing::Values(DType::f64, DType::f32),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Llama, StateDictNamesFollowHuggingFace) {
  nn::LlamaOptions o = golden_options(DType::f32);
  o.num_hidden_layers = 1;
  const auto model = std::make_shared<nn::LlamaForCausalLM>(o);
  std::vector<std::string> entries;
  for (const auto& [name, t] : model->state_dict())
    entries.push_back(name + " " + shape_str(t.shape()));
  EXPECT_EQ(entries, (std::vector<std::string>{
                         "model.embed_tokens.weight [32,16]",
                         "model.layers.0.self_attn.q_proj.weight [16,16]",
                         "model.layers.0.self_attn.k_proj.weight [8,16]",
                         "model.layers.0.self_attn.v_proj.weight [8,16]",
                         "model.layers.0.self_attn.o_proj.weight [16,16]",
                         "model.layers.0.mlp.gate_proj.weight [24,16]",
                         "model.layers.0.mlp.up_proj.weight [24,16]",
                         "model.layers.0.mlp.down_proj.weight [16,24]",
                         "model.layers.0.input_layernorm.weight [16]",
                         "model.layers.0.post_attention_layernorm.weight [16]",
                         "model.norm.weight [16]",
                         "lm_head.weight [32,16]",
                     }));
  // Tied: lm_head.weight is the embedding itself (one parameter, both names in the state dict).
  o.tie_word_embeddings = true;
  const auto tied = std::make_shared<nn::LlamaForCausalLM>(o);
  EXPECT_EQ(tied->named_parameters().size(), model->named_parameters().size() - 1);
  EXPECT_EQ(tied->state_dict().back().first, "lm_head.weight");
  EXPECT_TRUE(tied->lm_head_weight.is_same(tied->model->embed_tokens->weight));
  const Tensor ids = randint(0, 32, {1, 5}, DType::i64);
  nn::LlamaForCausalLM::loss(tied->forward(ids), ids).backward();
  EXPECT_TRUE(tied->model->embed_tokens->weight.grad().defined());
}

TEST(Llama, RejectsBadConfigurationsAndInputs) {
  nn::LlamaOptions o = golden_options(DType::f32);
  o.num_key_value_heads = 3;
  testing::expect_error([&] { nn::LlamaForCausalLM m(o); }, {"Llama", "num_key_value_heads 3"});
  nn::LlamaForCausalLM m(golden_options(DType::f32));
  testing::expect_error(
      [&] {
        m.forward(zeros({1, 17}, DType::i64));
      },
      {"Llama", "max_position_embeddings 16", "[1,17]"});
}

TEST(Llama, OptimizerStepsDriveTheLossDown) {
  manual_seed(0);
  auto model = std::make_shared<nn::LlamaForCausalLM>(golden_options(DType::f32));
  // A repeated pattern: each token determines the next.
  const Tensor ids = tensor(std::vector<int64_t>{3, 7, 1, 9, 3, 7, 1, 9, 3, 7, 1, 9}, {2, 6});
  optim::AdamW opt(model->parameters(), [] {
    optim::AdamWOptions o;
    o.lr = 1e-2;
    return o;
  }());
  double first = 0, last = 0;
  for (int step = 0; step < 15; ++step) {
    opt.zero_grad();
    const Tensor loss = nn::LlamaForCausalLM::loss(model->forward(ids), ids);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.5 * first) << "loss " << first << " -> " << last;
  // Plain SGD from a fresh model.
  manual_seed(1);
  model = std::make_shared<nn::LlamaForCausalLM>(golden_options(DType::f32));
  optim::SGD sgd(model->parameters(), {.lr = 0.5});
  for (int step = 0; step < 8; ++step) {
    sgd.zero_grad();
    const Tensor loss = nn::LlamaForCausalLM::loss(model->forward(ids), ids);
    loss.backward();
    sgd.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.9 * first) << "SGD: loss " << first << " -> " << last;
}

}  // namespace
}  // namespace anvil
