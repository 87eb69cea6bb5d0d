// MMEngine's quick start in C++: ResNet-50 trained on CIFAR-10 for 5 epochs, validated after each.
//   resnet50_cifar10 <cifar-10 dir> [--work-dir ./work_dir] [--max-epochs 5] [--batch-size 32]
//                    [--num-workers 2]
#include <map>

#include "anvil.h"
#include "engine/data/readers.h"
#include "engine/data/transforms.h"
#include "engine/runner/runner.h"

using namespace anvil;
using namespace anvil::engine;

struct MMResNet50 : BaseModel {
  std::shared_ptr<nn::ResNet> resnet = register_module("resnet", nn::resnet50({.num_classes = 10}));

  ModelOutput forward(const Batch& batch, Mode mode) override {
    Tensor x = resnet->forward(batch.inputs);
    if (mode == Mode::loss) return Losses{{"loss", cross_entropy(x, batch.labels)}};
    return Outputs{x, batch.labels};
  }
};

// The quick start's own metric (the library's engine::Accuracy, in engine/evaluator/accuracy.h,
// is not included here).
struct Accuracy : BaseMetric {
  Accuracy() : BaseMetric(/*default_prefix=*/"") {}
  void process(const Batch&, const std::vector<Tensor>& outputs) override {
    const Tensor &score = outputs[0], &gt = outputs[1];
    // One record per batch: its size and how many of its predictions are right.
    results().push_back({{"batch_size", double(gt.size(0))},
                         {"correct", score.argmax(1).eq(gt).sum().item<double>()}});
  }
  Scalars compute_metrics(const std::vector<MetricRecord>& results) const override {
    double correct = 0, size = 0;
    for (const MetricRecord& r : results) correct += r.at("correct"), size += r.at("batch_size");
    return {{"accuracy", 100 * correct / size}};
  }
};

int main(int argc, char** argv) try {
  std::map<std::string, std::string> args = {{"--work-dir", "./work_dir"},
                                             {"--max-epochs", "5"},
                                             {"--batch-size", "32"},
                                             {"--num-workers", "2"}};
  // Flags from the end: each known one takes the value after it; the data directory must remain.
  for (; argc > 3 && args.count(argv[argc - 2]); argc -= 2) args[argv[argc - 2]] = argv[argc - 1];
  ANVIL_CHECK(argc == 2 && argv[1][0] != '-',
              "usage: resnet50_cifar10 <cifar-10 dir> "
              "[--work-dir D] [--max-epochs N] [--batch-size N] [--num-workers N]");
  auto n = [&](const char* flag) { return std::stoll(args[flag]); };
  auto loader = [&](const std::string& split, Pipeline pipeline) {
    auto data = std::make_shared<Cifar10Dataset>(
        DatasetOptions{.data_root = argv[1], .split = split, .pipeline = pipeline});
    return std::make_shared<DataLoader>(
        data, split == "train" ? std::make_shared<DefaultSampler>(*data) : nullptr,
        DataLoaderOptions{.batch_size = n("--batch-size"), .num_workers = n("--num-workers")});
  };
  auto normalize = std::make_shared<Normalize>(
      NormalizeOptions{.mean = {0.491, 0.482, 0.447}, .std = {0.202, 0.199, 0.201}});
  auto crop = std::make_shared<RandomCrop>(RandomCropOptions{.size = {32}, .padding = {4}});
  auto flip = std::make_shared<RandomFlip>();
  auto to_tensor = std::make_shared<ToTensor>();
  Runner runner({.model = std::make_shared<MMResNet50>(),
                 .work_dir = args["--work-dir"],
                 .train_dataloader = loader("train", {crop, flip, to_tensor, normalize}),
                 .optim_wrapper =
                     OptimWrapperConfig{.optimizer = {"SGD", {{"lr", 0.001}, {"momentum", 0.9}}}},
                 .train_cfg = TrainLoopConfig{.max_epochs = n("--max-epochs"), .val_interval = 1},
                 .val_dataloader = loader("test", {to_tensor, normalize}),
                 .val_evaluator = {std::make_shared<Accuracy>()}});
  runner.train();
} catch (const std::exception& e) {  // e.g. missing data files: the message says how to get them
  fmt::print(stderr, "resnet50_cifar10: {}\n", e.what());
  return 1;
}
