// The `anvil` command: MMEngine's tools/train.py and tools/test.py, and an inferencer, as one
// binary. `anvil --help` and `anvil <command> --help` explain every flag.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anvil.h"
#include "engine/infer/inferencer.h"
#include "engine/runner/runner.h"
#include "tensor/atomic_file.h"

namespace {

using anvil::engine::Config;
namespace fs = std::filesystem;

constexpr const char* kUsage = R"(usage: anvil <command> [options]

Trains and evaluates models described by TOML configs, as MMEngine's tools/train.py and
tools/test.py do, and predicts with trained checkpoints.

commands:
  train CONFIG              train (and validate) as the config says
  test CONFIG CHECKPOINT    evaluate a checkpoint with the config's test_dataloader/test_evaluator
  infer CONFIG CHECKPOINT INPUT...
                            predict the classes of images (PNG/JPEG files or folders of them)

Run `anvil <command> --help` for its options. Threads: ANVIL_NUM_THREADS (default: all cores).
)";

constexpr const char* kTrainHelp =
    R"(usage: anvil train CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
                   [--cfg-options KEY=VALUE ...]

Builds a Runner from CONFIG and trains it: logs go to the console and to
WORK_DIR/<timestamp>/<timestamp>.log, scalars to WORK_DIR/<timestamp>/vis_data/, checkpoints to
WORK_DIR (as the config's CheckpointHook says), and the merged config to WORK_DIR/<config name>.toml.

options:
  --work-dir DIR        where logs and checkpoints go; default: the config's work_dir, else
                        ./work_dirs/<config name>
  --resume [CHECKPOINT] resume an interrupted run: from CHECKPOINT (a checkpoint directory), or,
                        without a value, from the latest checkpoint in the work directory
                        (WORK_DIR/last_checkpoint); weights, optimizer, schedulers, counters,
                        logs and random state all continue
  --amp                 mixed precision: optim_wrapper.type = "AmpOptimWrapper" with a dynamic
                        loss scale (autocast in float16 on a GPU, bfloat16 on the CPU)
  --cfg-options KEY=VALUE ...
                        override config entries: dotted keys (train_cfg.max_epochs=2,
                        optim_wrapper.optimizer.lr=0.01), TOML values, lists as [1, 2] or 1,2
  -h, --help            show this help
)";

constexpr const char* kTestHelp =
    R"(usage: anvil test CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options KEY=VALUE ...]

Loads CHECKPOINT (a checkpoint directory or a .safetensors file) into the config's model and
evaluates it on test_dataloader with test_evaluator; prints and logs the metrics.

options:
  --work-dir DIR        where the test's log goes; default as for `anvil train`
  --cfg-options KEY=VALUE ...
                        override config entries (see `anvil train --help`)
  -h, --help            show this help
)";

constexpr const char* kInferHelp =
    R"(usage: anvil infer CONFIG CHECKPOINT INPUT... [--batch-size N] [--topk K]
                   [--color gray|rgb|keep] [--out FILE] [--cfg-options KEY=VALUE ...]

Predicts the class of each image: INPUT is a PNG or JPEG file or a folder of them. Images are read
with the channels the model expects (gray for a one-value mean in the data preprocessor, RGB for
three; --color overrides) and go through the test pipeline of the config
(test_dataloader.dataset.pipeline, else val_dataloader's): add a Resize there for images of
another size. Prints one line per image: path, class, probability and the top-k.

options:
  --batch-size N        images per forward pass (default 8)
  --topk K              how many classes to report per image (default 1)
  --color MODE          gray, rgb or keep (the file's channels)
  --out FILE            also write the predictions as JSON lines to FILE
  --cfg-options KEY=VALUE ...
                        override config entries (see `anvil train --help`)
  -h, --help            show this help
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The arguments of one command: positionals, and flags with the values that follow them.
struct Args {
  std::vector<std::string> positional;
  std::optional<std::string> work_dir, out, color;
  std::optional<std::optional<std::string>> resume;  // --resume [CHECKPOINT]
  bool amp = false, help = false;
  std::vector<std::string> cfg_options;
  int64_t batch_size = 8, topk = 1;
};

int64_t parse_int(const std::string& flag, const std::string& value) {
  try {
    size_t used = 0;
    const int64_t v = std::stoll(value, &used);
    if (used == value.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("{} expects a positive integer, got '{}'", flag, value));
}

Args parse(const std::vector<std::string>& argv, const std::vector<std::string>& flags) {
  Args a;
  auto allowed = [&](const std::string& f) {
    return std::find(flags.begin(), flags.end(), f) != flags.end();
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argv.size() || argv[i + 1].starts_with("--")) {
        throw UsageError(arg + " expects a value");
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (!arg.starts_with("--")) {
      a.positional.push_back(arg);
    } else if (!allowed(arg)) {
      throw UsageError(fmt::format("unknown option {}", arg));
    } else if (arg == "--work-dir") {
      a.work_dir = value();
    } else if (arg == "--resume") {
      const bool has_value = i + 1 < argv.size() && !argv[i + 1].starts_with("--");
      a.resume = has_value ? std::optional<std::string>(argv[++i]) : std::nullopt;
    } else if (arg == "--amp") {
      a.amp = true;
    } else if (arg == "--cfg-options") {
      while (i + 1 < argv.size() && !argv[i + 1].starts_with("--"))
        a.cfg_options.push_back(argv[++i]);
      if (a.cfg_options.empty()) throw UsageError("--cfg-options expects KEY=VALUE pairs");
    } else if (arg == "--batch-size") {
      a.batch_size = parse_int(arg, value());
    } else if (arg == "--topk") {
      a.topk = parse_int(arg, value());
    } else if (arg == "--color") {
      a.color = value();
    } else if (arg == "--out") {
      a.out = value();
    }
  }
  return a;
}

// The config with --cfg-options merged and the work directory decided (MMEngine's order: the
// flag, the config's work_dir, ./work_dirs/<config name>).
Config load_config(const Args& a) {
  Config cfg = Config::from_file(a.positional.at(0));
  if (!a.cfg_options.empty()) cfg.merge_from_options(a.cfg_options);
  if (a.work_dir) {
    cfg.set("work_dir", *a.work_dir);
  } else if (!cfg.has("work_dir")) {
    cfg.set("work_dir", (fs::path("work_dirs") / fs::path(a.positional[0]).stem()).string());
  }
  return cfg;
}

int train(const Args& a) {
  if (a.positional.size() != 1) throw UsageError("train expects one CONFIG");
  Config cfg = load_config(a);
  if (a.resume) {
    cfg.set("resume", true);
    if (*a.resume) cfg.set("load_from", **a.resume);
  }
  if (a.amp) {
    const std::string type = cfg["optim_wrapper"].get_or("type", std::string("OptimWrapper"));
    if (type == "AmpOptimWrapper") {
      fmt::print("AMP training is already enabled in the config.\n");
    } else {
      if (type != "OptimWrapper") {
        throw UsageError(fmt::format("--amp needs optim_wrapper.type OptimWrapper, got {}", type));
      }
      cfg.merge_from_options(
          {"optim_wrapper.type=AmpOptimWrapper", "optim_wrapper.loss_scale=dynamic"});
    }
  }
  anvil::engine::Runner::from_cfg(cfg)->train();
  return 0;
}

int test(const Args& a) {
  if (a.positional.size() != 2) throw UsageError("test expects CONFIG and CHECKPOINT");
  Config cfg = load_config(a);
  // A test-only run: nothing of training is built (MMEngine builds it lazily and never uses it).
  for (const char* key : {"train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler",
                          "auto_scale_lr", "resume"}) {
    cfg.erase(key);
  }
  cfg.set("load_from", a.positional[1]);
  const anvil::engine::Scalars metrics = anvil::engine::Runner::from_cfg(cfg)->test();
  for (const auto& [name, value] : metrics) fmt::print("{}: {:.4f}\n", name, value);
  return 0;
}

int infer(const Args& a) {
  if (a.positional.size() < 3) throw UsageError("infer expects CONFIG, CHECKPOINT and INPUT...");
  const Config cfg = load_config(a);
  anvil::engine::InferencerOptions o{.batch_size = a.batch_size, .topk = a.topk};
  if (a.color) {
    if (*a.color == "gray")
      o.color = anvil::engine::ImageMode::gray;
    else if (*a.color == "rgb")
      o.color = anvil::engine::ImageMode::rgb;
    else if (*a.color == "keep")
      o.color = anvil::engine::ImageMode::keep;
    else
      throw UsageError(fmt::format("--color must be gray, rgb or keep, got '{}'", *a.color));
  }
  anvil::engine::Inferencer inferencer(cfg, a.positional[1], o);
  const std::vector<fs::path> inputs(a.positional.begin() + 2, a.positional.end());
  std::ofstream out;
  if (a.out) {
    out.open(*a.out);
    if (!out) throw anvil::IOError(fmt::format("anvil infer: cannot write {}", *a.out));
  }
  for (const auto& p : inferencer(inputs)) {
    std::string top;
    for (const auto& [label, score] : p.topk) top += fmt::format(" {}:{:.4f}", label, score);
    fmt::print("{}\t{}\t{}\t{:.4f}\ttop-{}:{}\n", p.input, p.label,
               p.class_name.empty() ? "-" : p.class_name, p.score, p.topk.size(), top);
    if (out) {
      nlohmann::json line = {{"input", p.input},
                             {"label", p.label},
                             {"score", p.score},
                             {"class", p.class_name},
                             {"topk", p.topk}};
      out << line.dump() << '\n';
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  struct Command {
    const char* help;
    std::vector<std::string> flags;
    int (*run)(const Args&);
  };
  const std::map<std::string, Command> commands = {
      {"train", {kTrainHelp, {"--work-dir", "--resume", "--amp", "--cfg-options"}, train}},
      {"test", {kTestHelp, {"--work-dir", "--cfg-options"}, test}},
      {"infer",
       {kInferHelp, {"--batch-size", "--topk", "--color", "--out", "--cfg-options"}, infer}},
  };
  auto it = commands.find(command);
  if (it == commands.end()) {
    fmt::print(stderr, "anvil: unknown command '{}'\n\n{}", command, kUsage);
    return 2;
  }
  try {
    const Args a = parse(rest, it->second.flags);
    if (a.help) {
      std::fputs(it->second.help, stdout);
      return 0;
    }
    return it->second.run(a);
  } catch (const UsageError& e) {
    fmt::print(stderr, "anvil {}: {}\n\n{}", command, e.what(), it->second.help);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "anvil {}: error: {}\n", command, e.what());
    return 1;
  }
}
