// MMEngine's LogProcessor (mmengine/runner/log_processor.py): turns the MessageHub's buffers
// into the text lines the LoggerHook prints and the tags it sends to the visualizer.
//   Epoch(train)  [1][ 50/1563]  lr: 1.0000e-03  eta: 0:41:12  time: 0.1581  data_time: 0.0031
//   memory: 1830  loss: 2.1532 Epoch(val) [1][313/313]    accuracy/top1: 35.7000  data_time: 0.0047
//   time: 0.0122
// Keys of the mode ("train/...") matching mean_pattern are averaged over window_size, the others
// show their latest value; custom_cfg entries pick another statistic or window per key.
// anvil prints `memory` (the peak of the run's device allocator since the last line, MB) on the
// CPU too, where MMEngine prints it only under CUDA.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "engine/logging/message_hub.h"
#include "engine/visualization/visualizer.h"

namespace anvil::engine {

struct CustomLogCfg {
  std::string data_src;  // key without the mode prefix ("loss")
  std::string log_name;  // output name; empty: replaces data_src
  std::string method_name = "mean";
  // A count of values, or "epoch" (this epoch's iterations so far) or "global" (all iterations).
  std::variant<int64_t, std::string> window_size = int64_t{10};
};

struct LogProcessorOptions {
  int64_t window_size = 10;
  bool by_epoch = true;
  std::vector<CustomLogCfg> custom_cfg;
  int num_digits = 4;
  bool log_with_hierarchy = false;
  std::string mean_pattern = R"(.*(loss|time|data_time|grad_norm).*)";
};

// Where the loop is when a line is printed (the runner fills it).
struct LogPosition {
  std::string mode;            // "train", "val" or "test"
  int64_t epoch = 0;           // completed training epochs (runner.epoch)
  int64_t iter = 0;            // completed training iterations (runner.iter)
  int64_t batch_idx = 0;       // index of the batch just done in this loop's epoch
  int64_t dataloader_len = 0;  // batches per epoch of this loop
  int64_t max_epochs = 0;
  int64_t max_iters = 0;
  bool has_train_loop = true;
  std::optional<int64_t> memory_mb;  // peak device memory since the last line
};

class LogProcessor {
 public:
  explicit LogProcessor(LogProcessorOptions options = {});
  const LogProcessorOptions& options() const { return options_; }

  // The tag for the visualizer and the printed line after an iteration (train, val or test).
  std::pair<Scalars, std::string> get_log_after_iter(const MessageHub& hub,
                                                     const LogPosition& at) const;
  // The val/test epoch summary: metrics, then the epoch's mean data_time and time.
  std::pair<Scalars, std::string> get_log_after_epoch(const MessageHub& hub,
                                                      const LogPosition& at) const;

 private:
  Scalars collect(const MessageHub& hub, const LogPosition& at,
                  std::vector<CustomLogCfg> custom) const;
  std::string number(double v) const;  // num_digits decimals
  LogProcessorOptions options_;
  std::regex mean_pattern_;  // options_.mean_pattern, compiled once
};

// A duration in seconds as Python's str(timedelta(seconds=int(s))): "0:41:12", "1 day, 2:56:08".
std::string format_eta(double seconds);

}  // namespace anvil::engine
