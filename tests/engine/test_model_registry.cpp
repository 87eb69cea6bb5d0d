// MODELS' torch.nn layers, data preprocessors and ImageClassifier: each layer built from TOML is
// the layer built in C++ (printed form, parameters, outputs), unknown keys and bad values are
// errors with the config's location, and an ImageClassifier described in TOML trains, predicts
// and names its state like mmpretrain's.
#include <gtest/gtest.h>

#include <cmath>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/evaluator/accuracy.h"
#include "engine/model/image_classifier.h"
#include "engine/registry/registries.h"
#include "nn/optim/sgd.h"

namespace anvil::engine {
namespace {

using testing::expect_error;
using ModulePtr = std::shared_ptr<nn::Module>;

ModulePtr build(const std::string& toml) {
  return MODELS.build(Config::from_string(toml, "model.toml"));
}

std::vector<std::string> keys(const nn::NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors) out.push_back(name);
  return out;
}

void expect_equal(const Tensor& actual, const Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  EXPECT_EQ(actual.detach().to(DType::f64).to_vector<double>(),
            expected.detach().to(DType::f64).to_vector<double>())
      << what;
}

// The same class, printed form (every option), parameter and buffer names and shapes; with the
// C++ layer's state copied in, the same output on `input` (and the same running statistics).
void expect_same_layer(const ModulePtr& built, const ModulePtr& expected, const Tensor& input) {
  ASSERT_TRUE(built);
  const std::string name = expected->type_name();
  EXPECT_EQ(built->type_name(), name);
  EXPECT_EQ(built->repr(), expected->repr());
  const nn::NamedTensors a = built->named_parameters(), e = expected->named_parameters();
  ASSERT_EQ(keys(a), keys(e)) << name;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].second.shape(), e[i].second.shape()) << name;
  ASSERT_EQ(keys(built->state_dict()), keys(expected->state_dict())) << name;
  built->load_state_dict(expected->state_dict());
  manual_seed(7);
  const Tensor out = built->forward(input);
  manual_seed(7);
  expect_equal(out, expected->forward(input), name + " output");
  const nn::NamedTensors sa = built->state_dict(), se = expected->state_dict();
  for (size_t i = 0; i < sa.size(); ++i) expect_equal(sa[i].second, se[i].second, sa[i].first);
}

TEST(ModelRegistry, ConvolutionAndLinear) {
  manual_seed(0);
  const Tensor image = randn({2, 2, 7, 6});
  expect_same_layer(build(R"(type = "Conv2d"
in_channels = 2
out_channels = 4
kernel_size = [3, 2]
stride = 2
padding = [1, 0]
dilation = [1, 2]
groups = 2
bias = false
padding_mode = "zeros")"),
                    std::make_shared<nn::Conv2d>(2, 4, ConvPair(3, 2),
                                                 nn::Conv2dOptions{.stride = 2,
                                                                   .padding = {1, 0},
                                                                   .dilation = ConvPair(1, 2),
                                                                   .groups = 2,
                                                                   .bias = false}),
                    image);
  expect_same_layer(build("type = \"Conv2d\"\nin_channels = 2\nout_channels = 3\nkernel_size = 3\n"
                          "padding = \"same\""),
                    std::make_shared<nn::Conv2d>(2, 3, 3, nn::Conv2dOptions{.padding = "same"}),
                    image);
  expect_same_layer(
      build(R"(type = "ConvTranspose2d"
in_channels = 2
out_channels = 3
kernel_size = 3
stride = [2, 1]
padding = 1
output_padding = [1, 0]
dilation = 1)"),
      std::make_shared<nn::ConvTranspose2d>(
          2, 3, 3,
          nn::ConvTranspose2dOptions{
              .stride = ConvPair(2, 1), .padding = 1, .output_padding = ConvPair(1, 0)}),
      image);
  expect_same_layer(build("type = \"Linear\"\nin_features = 6\nout_features = 3\nbias = false"),
                    std::make_shared<nn::Linear>(6, 3, nn::LinearOptions{.bias = false}), image);
  expect_same_layer(build("type = \"Linear\"\nin_features = 6\nout_features = 3"),
                    std::make_shared<nn::Linear>(6, 3), image);
}

TEST(ModelRegistry, Normalization) {
  manual_seed(1);
  expect_same_layer(
      build("type = \"BatchNorm1d\"\nnum_features = 3\neps = 1e-3\nmomentum = 0.2"),
      std::make_shared<nn::BatchNorm1d>(3, nn::BatchNormOptions{.eps = 1e-3, .momentum = 0.2}),
      randn({5, 3}));
  const Tensor image = randn({2, 4, 3, 3});
  expect_same_layer(build("type = \"BatchNorm2d\"\nnum_features = 4"),
                    std::make_shared<nn::BatchNorm2d>(4), image);
  expect_same_layer(build("type = \"BatchNorm2d\"\nnum_features = 4\naffine = false\n"
                          "track_running_stats = false"),
                    std::make_shared<nn::BatchNorm2d>(
                        4, nn::BatchNormOptions{.affine = false, .track_running_stats = false}),
                    image);
  expect_same_layer(
      build("type = \"LayerNorm\"\nnormalized_shape = [3, 3]\neps = 1e-6\nbias = false"),
      std::make_shared<nn::LayerNorm>(Shape{3, 3},
                                      nn::LayerNormOptions{.eps = 1e-6, .bias = false}),
      image);
  expect_same_layer(
      build("type = \"LayerNorm\"\nnormalized_shape = 3\nelementwise_affine = false"),
      std::make_shared<nn::LayerNorm>(Shape{3}, nn::LayerNormOptions{.elementwise_affine = false}),
      image);
  expect_same_layer(
      build("type = \"GroupNorm\"\nnum_groups = 2\nnum_channels = 4\neps = 1e-4\naffine = false"),
      std::make_shared<nn::GroupNorm>(2, 4, nn::GroupNormOptions{.eps = 1e-4, .affine = false}),
      image);
}

TEST(ModelRegistry, Activations) {
  manual_seed(2);
  const Tensor x = randn({3, 5});
  expect_same_layer(build("type = \"ReLU\"\ninplace = true"), std::make_shared<nn::ReLU>(), x);
  expect_same_layer(build("type = \"LeakyReLU\"\nnegative_slope = 0.2"),
                    std::make_shared<nn::LeakyReLU>(0.2), x);
  expect_same_layer(build("type = \"LeakyReLU\""), std::make_shared<nn::LeakyReLU>(), x);
  expect_same_layer(build("type = \"GELU\"\napproximate = \"tanh\""),
                    std::make_shared<nn::GELU>(GeluApprox::tanh), x);
  expect_same_layer(build("type = \"GELU\""), std::make_shared<nn::GELU>(), x);
  expect_same_layer(build("type = \"SiLU\""), std::make_shared<nn::SiLU>(), x);
  expect_same_layer(build("type = \"Sigmoid\""), std::make_shared<nn::Sigmoid>(), x);
  expect_same_layer(build("type = \"Tanh\""), std::make_shared<nn::Tanh>(), x);
  expect_same_layer(build("type = \"Softmax\"\ndim = 0"), std::make_shared<nn::Softmax>(0), x);
}

TEST(ModelRegistry, PoolingAndOthers) {
  manual_seed(3);
  const Tensor image = randn({2, 3, 7, 6});
  expect_same_layer(
      build("type = \"MaxPool2d\"\nkernel_size = 3\nstride = 2\npadding = 1\nceil_mode = true"),
      std::make_shared<nn::MaxPool2d>(
          std::vector<int64_t>{3},
          MaxPool2dOptions{.stride = {2}, .padding = {1}, .ceil_mode = true}),
      image);
  expect_same_layer(build("type = \"MaxPool2d\"\nkernel_size = [2, 3]\ndilation = [1, 2]"),
                    std::make_shared<nn::MaxPool2d>(std::vector<int64_t>{2, 3},
                                                    MaxPool2dOptions{.dilation = {1, 2}}),
                    image);
  expect_same_layer(
      build("type = \"AvgPool2d\"\nkernel_size = [3, 2]\nstride = 1\npadding = [1, 0]\n"
            "count_include_pad = false"),
      std::make_shared<nn::AvgPool2d>(
          std::vector<int64_t>{3, 2},
          AvgPool2dOptions{.stride = {1}, .padding = {1, 0}, .count_include_pad = false}),
      image);
  expect_same_layer(build("type = \"AvgPool2d\"\nkernel_size = 2\ndivisor_override = 3"),
                    std::make_shared<nn::AvgPool2d>(std::vector<int64_t>{2},
                                                    AvgPool2dOptions{.divisor_override = 3}),
                    image);
  expect_same_layer(
      build("type = \"AdaptiveAvgPool2d\"\noutput_size = [2, 1]"),
      std::make_shared<nn::AdaptiveAvgPool2d>(std::vector<std::optional<int64_t>>{2, 1}), image);
  expect_same_layer(build("type = \"AdaptiveAvgPool2d\"\noutput_size = 1"),
                    std::make_shared<nn::AdaptiveAvgPool2d>(std::vector<std::optional<int64_t>>{1}),
                    image);
  // A null entry keeps that size (torch's None), from C++ or --cfg-options.
  expect_same_layer(
      MODELS.build(Config::table(
          {{"type", "AdaptiveAvgPool2d"}, {"output_size", Config::array({nullptr, 2})}})),
      std::make_shared<nn::AdaptiveAvgPool2d>(std::vector<std::optional<int64_t>>{std::nullopt, 2}),
      image);
  expect_same_layer(build("type = \"Dropout\"\np = 0.3\ninplace = false"),
                    std::make_shared<nn::Dropout>(0.3), image);
  expect_same_layer(build("type = \"Flatten\"\nstart_dim = 2"), std::make_shared<nn::Flatten>(2),
                    image);
  expect_same_layer(build("type = \"Flatten\""), std::make_shared<nn::Flatten>(), image);
  expect_same_layer(build("type = \"Identity\""), std::make_shared<nn::Identity>(), image);
}

TEST(ModelRegistry, EveryLayerIsRegistered) {
  for (const char* type : {"Sequential",
                           "Conv2d",
                           "ConvTranspose2d",
                           "Linear",
                           "BatchNorm1d",
                           "BatchNorm2d",
                           "LayerNorm",
                           "GroupNorm",
                           "ReLU",
                           "LeakyReLU",
                           "GELU",
                           "SiLU",
                           "Sigmoid",
                           "Tanh",
                           "Softmax",
                           "MaxPool2d",
                           "AvgPool2d",
                           "AdaptiveAvgPool2d",
                           "Dropout",
                           "Flatten",
                           "Identity",
                           "BaseDataPreprocessor",
                           "ImgDataPreprocessor",
                           "ImageClassifier"}) {
    EXPECT_TRUE(MODELS.contains(type)) << type;
  }
}

TEST(ModelRegistry, SequentialNestsAndNamesChildrenAsTorch) {
  const Config cfg = Config::from_string(R"([net]
type = "Sequential"
layers = [
  {type = "Conv2d", in_channels = 1, out_channels = 2, kernel_size = 3, padding = 1},
  {type = "Sequential", layers = [{type = "BatchNorm2d", num_features = 2}, {type = "ReLU"}]},
  {type = "Flatten"},
  {type = "Linear", in_features = 32, out_features = 3},
]
)",
                                         "net.toml");
  manual_seed(4);
  const ModulePtr built = MODELS.build(cfg["net"]);
  auto inner = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::BatchNorm2d>(2), std::make_shared<nn::ReLU>()});
  auto expected = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(1, 2, 3, nn::Conv2dOptions{.padding = 1}), inner,
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(32, 3)});
  EXPECT_EQ(keys(built->state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.0.weight", "1.0.bias",
                                      "1.0.running_mean", "1.0.running_var",
                                      "1.0.num_batches_tracked", "3.weight", "3.bias"}));
  expect_same_layer(built, expected, randn({2, 1, 4, 4}));
  EXPECT_EQ(MODELS.build(Config::table({{"type", "Sequential"}}))->named_children().size(), 0u);
}

TEST(ModelRegistry, ErrorsNameTheKeyAndLocation) {
  expect_error(
      [] { build("type = \"Conv2d\"\nin_channels = 1\nout_channels = 2\nkernal_size = 3"); },
      {"model.toml:4: unknown key 'kernal_size'", "did you mean 'kernel_size'?",
       "valid keys: in_channels, out_channels, kernel_size, stride, padding"});
  expect_error([] { build("type = \"Conv2d\"\nin_channels = 1\nout_channels = 2"); },
               {"kernel_size"});
  expect_error(
      [] {
        build("type = \"Conv2d\"\nin_channels = 1\nout_channels = 2\nkernel_size = [3, 3, 3]");
      },
      {"model.toml:4: kernel_size: expected an int or a list of two ints, got array of 3"});
  expect_error(
      [] {
        build(
            "type = \"Conv2d\"\nin_channels = 1\nout_channels = 2\nkernel_size = 3\n"
            "padding_mode = \"reflect\"");
      },
      {"padding_mode 'reflect' is not supported"});
  expect_error(
      [] {
        build(
            "type = \"Conv2d\"\nin_channels = 1\nout_channels = 2\nkernel_size = 3\n"
            "padding = \"sam\"");
      },
      {"model.toml:5: padding: padding must be numbers, 'same' or 'valid', got 'sam'"});
  expect_error([] { build("type = \"MaxPool2d\"\nkernel_size = 2\nreturn_indices = true"); },
               {"return_indices"});
  expect_error([] { build("type = \"GELU\"\napproximate = \"fast\""); },
               {"approximate must be 'none' or 'tanh', got 'fast'"});
  expect_error([] { build("type = \"Softmax\""); }, {"dim"});
  expect_error([] { build("type = \"ReLU\"\ninplace = 1"); }, {"inplace", "expected a bool"});
  expect_error([] { build("type = \"Identity\"\nx = 1"); }, {"unknown key 'x'"});
  expect_error([] { build("type = \"Linear\"\nin_features = 2\nout_features = 3\nbias = \"no\""); },
               {"bias"});
  // The layer's own check, with the table's location.
  expect_error([] { build("type = \"Dropout\"\np = 1.5"); },
               {"model.toml: building MODELS 'Dropout'", "p must be in [0, 1]"});
  // A typo deep in a nested Sequential points at its line and key path.
  expect_error(
      [] {
        build(R"(type = "Sequential"
layers = [
  {type = "ReLU"},
  {type = "Sequential", layers = [{type = "Linear", in_features = 2, out_feature = 3}]},
])");
      },
      {"model.toml:4: unknown key 'out_feature' in layers.1.layers.0",
       "did you mean 'out_features'?"});
  expect_error([] { build("type = \"Sequential\"\nlayers = [{type = \"Relu\"}]"); },
               {"layers.0.type: 'Relu' is not registered in MODELS", "did you mean 'ReLU'?"});
}

// ---- preprocessors

TEST(ModelRegistry, DataPreprocessors) {
  auto built = std::dynamic_pointer_cast<ImgDataPreprocessor>(build(R"(type = "ImgDataPreprocessor"
mean = [1, 2, 3]
std = [2.0, 4.0, 8.0]
pad_size_divisor = 4
pad_value = -1.5
bgr_to_rgb = true)"));
  ASSERT_TRUE(built);
  ImgDataPreprocessor expected({.mean = {1, 2, 3},
                                .std = {2, 4, 8},
                                .pad_size_divisor = 4,
                                .pad_value = -1.5,
                                .bgr_to_rgb = true});
  Batch b;
  b.inputs = randint(0, 256, {2, 3, 3, 5}).to(DType::u8);
  expect_equal(built->process(b, true).inputs, expected.process(b, true).inputs, "preprocessed");
  EXPECT_EQ(built->process(b, true).inputs.shape(), (Shape{2, 3, 4, 8}));

  auto plain =
      std::dynamic_pointer_cast<ImgDataPreprocessor>(build("type = \"ImgDataPreprocessor\""));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->mean.defined());
  EXPECT_EQ(plain->process(b, false).inputs.dtype(), DType::f32);
  auto base = build("type = \"BaseDataPreprocessor\"");
  ASSERT_TRUE(std::dynamic_pointer_cast<BaseDataPreprocessor>(base));
  EXPECT_EQ(base->type_name(), "BaseDataPreprocessor");

  expect_error(
      [] { build("type = \"ImgDataPreprocessor\"\nmean = [1]\nstd = [1]\nto_rgb = true"); },
      {"unknown key 'to_rgb'",
       "valid keys: mean, std, pad_size_divisor, pad_value, "
       "bgr_to_rgb, rgb_to_bgr"});
  expect_error([] { build("type = \"ImgDataPreprocessor\"\nmean = [1, 2]\nstd = [1, 2]"); },
               {"building MODELS 'ImgDataPreprocessor'", "1 or 3"});
  expect_error([] { build("type = \"BaseDataPreprocessor\"\nnon_blocking = true"); },
               {"unknown key 'non_blocking'"});
}

// ---- ImageClassifier

// The README's shape of config, at a small size: 1x4x4 images, 3 classes.
const char* kClassifierToml = R"([model]
type = "ImageClassifier"
data_preprocessor = {type = "ImgDataPreprocessor", mean = [2.0], std = [4.0]}
loss = {type = "CrossEntropyLoss", label_smoothing = 0.1, loss_weight = 2.0}
[model.backbone]
type = "Sequential"
layers = [
  {type = "Conv2d", in_channels = 1, out_channels = 4, kernel_size = 3, padding = 1},
  {type = "BatchNorm2d", num_features = 4},
  {type = "ReLU"},
  {type = "MaxPool2d", kernel_size = 2},
  {type = "Flatten"},
  {type = "Linear", in_features = 16, out_features = 3},
]
)";

std::shared_ptr<ImageClassifier> classifier(const std::string& toml = kClassifierToml) {
  const ModulePtr model = MODELS.build(Config::from_string(toml, "classifier.toml")["model"]);
  // What the runner does with a MODELS entry.
  EXPECT_TRUE(std::dynamic_pointer_cast<BaseModel>(model));
  return std::dynamic_pointer_cast<ImageClassifier>(model);
}

Batch image_batch(int64_t n) {
  Batch b;
  b.inputs = randint(0, 10, {n, 1, 4, 4}).to(DType::u8);
  b.labels = randint(0, 3, {n});
  b.indices = arange(n);
  return b;
}

TEST(ImageClassifier, BuildsFromAConfigWithTorchStateNames) {
  manual_seed(5);
  auto model = classifier();
  ASSERT_TRUE(model);
  EXPECT_EQ(model->type_name(), "ImageClassifier");
  EXPECT_DOUBLE_EQ(model->options.loss.label_smoothing, 0.1);
  EXPECT_DOUBLE_EQ(model->options.loss.loss_weight, 2.0);
  auto preprocessor = std::dynamic_pointer_cast<ImgDataPreprocessor>(model->data_preprocessor);
  ASSERT_TRUE(preprocessor);
  EXPECT_EQ(preprocessor->options.mean, std::vector<double>{2.0});
  EXPECT_EQ(keys(model->state_dict()),
            (std::vector<std::string>{"backbone.0.weight", "backbone.0.bias", "backbone.1.weight",
                                      "backbone.1.bias", "backbone.1.running_mean",
                                      "backbone.1.running_var", "backbone.1.num_batches_tracked",
                                      "backbone.5.weight", "backbone.5.bias"}));
  EXPECT_EQ(keys(model->named_parameters()).front(), "backbone.0.weight");
  EXPECT_EQ(model->get_submodule("backbone.5")->type_name(), "Linear");
}

TEST(ImageClassifier, ModesMatchTheBackboneAndCrossEntropy) {
  manual_seed(6);
  auto model = classifier();
  const Batch raw = image_batch(6);
  const Batch b = model->data_preprocessor->process(raw, true);
  expect_equal(b.inputs, (raw.inputs.to(DType::f32) - 2.0f) / 4.0f, "normalised inputs");

  model->eval();  // BatchNorm's running statistics: every call gives the same logits
  const Tensor logits = model->backbone->forward(b.inputs);
  CrossEntropyOptions ce;
  ce.label_smoothing = 0.1;
  const Losses losses = std::get<Losses>(model->forward(b, Mode::loss));
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].first, "loss");
  expect_equal(losses[0].second, cross_entropy(logits, b.labels, ce) * 2.0, "loss");

  const Outputs tensor_out = std::get<Outputs>(model->forward(b, Mode::tensor));
  ASSERT_EQ(tensor_out.size(), 1u);
  expect_equal(tensor_out[0], logits, "tensor mode");

  // predict through val_step (preprocessing included): softmax scores and the labels.
  const Outputs predicted = model->val_step(raw);
  ASSERT_EQ(predicted.size(), 2u);
  expect_equal(predicted[0], logits.softmax(1), "scores");
  expect_equal(predicted[1], raw.labels, "labels");
  EXPECT_EQ(predicted[0].shape(), (Shape{6, 3}));
  expect_equal(model->test_step(raw)[0], predicted[0], "test_step");
  // What the Accuracy metric reads.
  Accuracy accuracy;
  accuracy.process(raw, predicted);
  EXPECT_EQ(accuracy.results().size(), 6u);
}

// Two well separated classes of 1x2x2 images (dark and bright), learnt by a linear backbone.
TEST(ImageClassifier, TrainStepsReduceTheLoss) {
  manual_seed(8);
  auto model = classifier(R"([model]
type = "ImageClassifier"
data_preprocessor = {mean = [127.5], std = [127.5]}
backbone = {type = "Sequential", layers = [{type = "Flatten"}, {type = "Linear", in_features = 4, out_features = 2}]}
loss = {type = "CrossEntropyLoss"}
)");
  ASSERT_TRUE(model);
  ASSERT_TRUE(std::dynamic_pointer_cast<ImgDataPreprocessor>(model->data_preprocessor));
  Batch b;
  const Tensor dark = randint(0, 60, {4, 1, 2, 2}), bright = randint(196, 256, {4, 1, 2, 2});
  b.inputs = cat({dark, bright}).to(DType::u8);
  b.labels = tensor(std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1});
  b.indices = arange(8);
  OptimWrapper wrapper(
      std::make_unique<optim::SGD>(model->parameters(), optim::SGDOptions{.lr = 0.5}));
  std::vector<double> losses;
  for (int step = 0; step < 10; ++step) {
    const Scalars log_vars = model->train_step(b, wrapper);
    ASSERT_EQ(log_vars.front().first, "loss");
    losses.push_back(log_vars.front().second);
  }
  for (size_t i = 1; i < losses.size(); ++i) EXPECT_LT(losses[i], losses[i - 1]) << i;
  EXPECT_LT(losses.back(), 0.5 * losses.front());
  const Tensor scores = model->val_step(b)[0];
  EXPECT_EQ(scores.argmax(1).to_vector<int64_t>(), b.labels.to_vector<int64_t>());
}

TEST(ImageClassifier, FromCppWithTheDefaultPreprocessor) {
  manual_seed(9);
  auto backbone = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(16, 3)});
  ImageClassifier model(backbone);
  EXPECT_EQ(model.data_preprocessor->type_name(), "ImgDataPreprocessor");
  EXPECT_EQ(model.backbone, backbone);
  const Batch raw = image_batch(4);
  const Tensor scores = model.val_step(raw)[0];  // u8 images are cast to float
  expect_equal(scores, backbone->forward(raw.inputs.to(DType::f32)).softmax(1), "scores");
  const Losses losses =
      std::get<Losses>(model.forward(model.data_preprocessor->process(raw, true), Mode::loss));
  expect_equal(losses[0].second,
               cross_entropy(backbone->forward(raw.inputs.to(DType::f32)), raw.labels), "loss");
  EXPECT_EQ(keys(model.state_dict()).front(), "backbone.1.weight");
}

TEST(ImageClassifier, ResNetBackbone) {
  manual_seed(10);
  auto model = classifier(R"([model]
type = "ImageClassifier"
backbone = {type = "ResNet", depth = 18, num_classes = 5}
)");
  ASSERT_TRUE(model);
  EXPECT_EQ(keys(model->state_dict()).front(), "backbone.conv1.weight");
  Batch b;
  b.inputs = randint(0, 256, {2, 3, 32, 32}).to(DType::u8);
  b.labels = tensor(std::vector<int64_t>{1, 4});
  EXPECT_EQ(model->val_step(b)[0].shape(), (Shape{2, 5}));
}

TEST(ImageClassifier, InitCfg) {
  manual_seed(11);
  auto model = classifier(R"([model]
type = "ImageClassifier"
backbone = {type = "Sequential", layers = [{type = "Flatten"}, {type = "Linear", in_features = 4, out_features = 2}]}
init_cfg = [
  {type = "Constant", layer = "Linear", val = 0.5, bias = 0.25},
  {type = "Constant", layer = ["Linear"], val = 1, override = {name = "backbone", type = "Constant", val = 2, layer = "Linear"}},
]
)");
  ASSERT_TRUE(model);
  ASSERT_EQ(model->init_cfg.size(), 2u);
  EXPECT_EQ(model->init_cfg[0].layer, std::vector<std::string>{"Linear"});
  EXPECT_EQ(model->init_cfg[0].val, 0.5);
  EXPECT_EQ(model->init_cfg[0].bias, 0.25);
  ASSERT_EQ(model->init_cfg[1].override.size(), 1u);
  EXPECT_EQ(model->init_cfg[1].override[0].name, "backbone");
  model->init_weights();
  // The override on "backbone" is applied last.
  const auto linear = std::dynamic_pointer_cast<nn::Linear>(model->get_submodule("backbone.1"));
  EXPECT_EQ(amin(linear->weight.detach()).item<float>(), 2.0f);
  EXPECT_EQ(amax(linear->weight.detach()).item<float>(), 2.0f);
  EXPECT_EQ(amax(linear->bias.detach()).item<float>(), 0.0f);

  auto single = classifier(R"([model]
type = "ImageClassifier"
backbone = {type = "Linear", in_features = 4, out_features = 2}
init_cfg = {type = "Normal", layer = "Linear", std = 0.01, mode = "x"}
)");
  EXPECT_EQ(single->init_cfg.at(0).std, 0.01);
  // Which keys an initializer takes is checked when it is applied.
  expect_error([&] { single->init_weights(); }, {"mode"});
  expect_error(
      [] {
        classifier(R"([model]
type = "ImageClassifier"
backbone = {type = "Identity"}
init_cfg = {type = "Constant", vall = 1}
)");
      },
      {"classifier.toml:4: unknown key 'vall' in model.init_cfg", "did you mean 'val'?"});
}

TEST(ImageClassifier, Errors) {
  // A backbone with no single-tensor forward, and one that does not give [N, C].
  ImageClassifier list_backbone(std::make_shared<nn::ModuleList>());
  expect_error([&] { list_backbone.val_step(image_batch(2)); },
               {"ModuleList", "no single-tensor forward"});
  ImageClassifier image_backbone(std::make_shared<nn::Identity>());
  expect_error(
      [&] { image_backbone.val_step(image_batch(2)); },
      {"ImageClassifier: the backbone (Identity) must give logits [N, num_classes]", "[2,1,4,4]"});
  expect_error([] { ImageClassifier(nullptr); }, {"backbone is null"});
  expect_error(
      [] { ImageClassifier(std::make_shared<nn::Identity>(), {.loss = {.label_smoothing = 2}}); },
      {"label_smoothing must be in [0, 1], got 2"});
  Batch unlabelled = image_batch(2);
  unlabelled.labels = Tensor();
  ImageClassifier linear(std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(16, 3)}));
  expect_error(
      [&] { linear.forward(linear.data_preprocessor->process(unlabelled, true), Mode::loss); },
      {"loss mode needs the batch's labels"});

  const std::string head =
      "[model]\ntype = \"ImageClassifier\"\nbackbone = {type = \"Identity\"}\n";
  expect_error([&] { classifier(head + "neck = {type = \"Identity\"}\n"); },
               {"classifier.toml:4: unknown key 'neck' in model",
                "valid keys: backbone, loss, data_preprocessor, init_cfg"});
  expect_error([&] { classifier(head + "loss = {type = \"FocalLoss\"}\n"); },
               {"classifier.toml:4: model.loss.type: ImageClassifier's loss must be "
                "'CrossEntropyLoss', got 'FocalLoss'"});
  expect_error(
      [&] { classifier(head + "loss = {type = \"CrossEntropyLoss\", label_smooth = 0.1}\n"); },
      {"unknown key 'label_smooth'", "did you mean 'label_smoothing'?"});
  expect_error([&] { classifier(head + "loss = {label_smoothing = 0.1}\n"); },
               {"model.loss", "type"});
  expect_error([&] { classifier(head + "data_preprocessor = {type = \"ReLU\"}\n"); },
               {"classifier.toml:4: model.data_preprocessor: a ReLU is not a data preprocessor"});
  expect_error([&] { classifier(head + "data_preprocessor = {mean = [1], sd = [1]}\n"); },
               {"unknown key 'sd'", "did you mean 'std'?"});
  expect_error([] { classifier("[model]\ntype = \"ImageClassifier\"\n"); }, {"backbone"});
}

}  // namespace
}  // namespace anvil::engine
