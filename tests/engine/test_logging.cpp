// MessageHub, HistoryBuffer, the LogProcessor's MMEngine lines and the Logger's format.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/op_test.h"
#include "engine/logging/log_processor.h"
#include "engine/logging/logger.h"
#include "engine/logging/message_hub.h"

namespace anvil::engine {
namespace {

TEST(HistoryBuffer, WindowedStatistics) {
  HistoryBuffer b(4);
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) b.update(v);  // 1 drops out (max_length 4)
  EXPECT_EQ(b.size(), 4u);
  EXPECT_DOUBLE_EQ(b.mean(), 3.5);
  EXPECT_DOUBLE_EQ(b.mean(2), 4.5);
  EXPECT_DOUBLE_EQ(b.mean(100), 3.5);
  EXPECT_DOUBLE_EQ(b.max(3), 5);
  EXPECT_DOUBLE_EQ(b.min(3), 3);
  EXPECT_DOUBLE_EQ(b.current(), 5);
  EXPECT_DOUBLE_EQ(b.statistics("min"), 2);
  HistoryBuffer counted;
  counted.update(10, 4);  // a sum over 4 samples
  counted.update(2, 1);
  EXPECT_DOUBLE_EQ(counted.mean(), 12.0 / 5);
  testing::expect_error([] { HistoryBuffer().current(); }, {"no value"});
  testing::expect_error([&] { b.statistics("median"); }, {"median", "mean, max, min or current"});
}

TEST(MessageHub, ScalarsInfoAndStateDict) {
  MessageHub hub;
  hub.update_scalar("train/lr", 0.1);
  hub.update_scalar("train/loss", 2.0);
  hub.update_scalar("train/loss", 1.0);
  hub.update_scalar("train/time", 0.5, 1, /*resumed=*/false);
  hub.update_info("epoch", int64_t{3});
  hub.update_info("cfg", std::string("a = 1"));
  EXPECT_EQ(hub.log_scalars()[1].first, "train/loss");
  EXPECT_DOUBLE_EQ(hub.get_scalar("train/loss").mean(), 1.5);
  testing::expect_error([&] { hub.get_scalar("val/acc"); }, {"val/acc", "train/lr, train/loss"});
  testing::expect_error([&] { hub.update_scalar("train/time", 1.0); }, {"train/time", "resumed"});

  MessageHub restored;
  restored.load_state_dict(hub.state_dict());
  EXPECT_FALSE(restored.has_scalar("train/time"));  // not resumed
  EXPECT_EQ(restored.get_scalar("train/loss").values(), hub.get_scalar("train/loss").values());
  EXPECT_EQ(std::get<int64_t>(*restored.get_info("epoch")), 3);
  EXPECT_EQ(std::get<std::string>(*restored.get_info("cfg")), "a = 1");
  MessageHub again;
  again.load_state_dict(restored.state_dict());
  EXPECT_EQ(again.state_dict(), restored.state_dict());
  testing::expect_error([&] { restored.load_state_dict("{\"log_scalars\": 3}"); },
                        {"not a message hub state"});
  EXPECT_EQ(std::get<int64_t>(*hub.pop_info("epoch")), 3);
  EXPECT_EQ(hub.get_info("epoch"), nullptr);
}

// A hub after `iters` training iterations logged as MMEngine's hooks log them.
MessageHub train_hub(int iters) {
  MessageHub hub;
  for (int i = 0; i < iters; ++i) {
    hub.update_scalar("train/lr", 0.01);
    hub.update_scalar("train/data_time", 0.001 * (i + 1));
    hub.update_scalar("train/loss", 1.0 + i);
    hub.update_scalar("train/time", 0.1);
  }
  hub.update_info("eta", 3725.8);
  return hub;
}

TEST(LogProcessor, TrainLineByEpoch) {
  const MessageHub hub = train_hub(12);
  LogPosition at{.mode = "train",
                 .epoch = 0,
                 .iter = 11,
                 .batch_idx = 11,
                 .dataloader_len = 250,
                 .max_epochs = 5,
                 .max_iters = 2500};
  at.memory_mb = 392;
  const auto [tag, line] = LogProcessor().get_log_after_iter(hub, at);
  // loss and the times are means over the last 10 iterations; lr is the current value.
  EXPECT_EQ(line,
            "Epoch(train)  [1][ 12/250]  lr: 1.0000e-02  eta: 1:02:05  time: 0.1000  "
            "data_time: 0.0075  memory: 392  loss: 7.5000");
  std::vector<std::string> keys;
  for (const auto& [k, v] : tag) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"lr", "data_time", "loss", "time", "epoch", "iter",
                                            "memory"}));
  EXPECT_DOUBLE_EQ(tag[5].second, 12);
}

TEST(LogProcessor, TrainLineByIterAndCustomCfg) {
  const MessageHub hub = train_hub(12);
  LogProcessorOptions options{.window_size = 2, .by_epoch = false};
  options.custom_cfg = {{.data_src = "loss",
                         .log_name = "loss_max",
                         .method_name = "max",
                         .window_size = std::string("global")}};
  const LogPosition at{.mode = "train", .iter = 11, .max_iters = 1000};
  const auto [tag, line] = LogProcessor(options).get_log_after_iter(hub, at);
  EXPECT_EQ(line,
            "Iter(train) [  12/1000]  lr: 1.0000e-02  eta: 1:02:05  time: 0.1000  "
            "data_time: 0.0115  loss: 11.5000  loss_max: 12.0000");
  EXPECT_EQ(tag.back().first, "iter");
}

TEST(LogProcessor, ValLinesAndEpochSummary) {
  MessageHub hub;
  for (int i = 0; i < 4; ++i) {
    hub.update_scalar("val/data_time", 0.002);
    hub.update_scalar("val/time", 0.01 * (i + 1));
  }
  hub.update_scalar("val/accuracy/top1", 35.7);
  hub.update_info("eta", 0.4);
  const LogPosition at{.mode = "val",
                       .epoch = 1,
                       .iter = 250,
                       .batch_idx = 2,
                       .dataloader_len = 4,
                       .max_epochs = 10};
  const LogProcessor lp;
  EXPECT_EQ(lp.get_log_after_iter(hub, at).second,
            "Epoch(val)   [1][3/4]  eta: 0:00:00  time: 0.0250  data_time: 0.0020");  // [1] in 5
  const auto [tag, line] = lp.get_log_after_epoch(hub, at);
  EXPECT_EQ(line, "Epoch(val) [1][4/4]    accuracy/top1: 35.7000  data_time: 0.0020  time: 0.0250");
  EXPECT_EQ(tag.front().first, "accuracy/top1");
  LogPosition test = at;
  test.mode = "test";
  hub.update_scalar("test/accuracy/top1", 40.0);
  EXPECT_EQ(lp.get_log_after_epoch(hub, test).second,
            "Epoch(test) [4/4]    accuracy/top1: 40.0000");
}

TEST(LogProcessor, BadCustomCfg) {
  testing::expect_error(
      [] {
        LogProcessor({.by_epoch = false,
                      .custom_cfg = {{.data_src = "loss", .window_size = std::string("epoch")}}});
      },
      {"loss", "by_epoch"});
  testing::expect_error(
      [] {
        LogProcessor({.custom_cfg = {{.data_src = "loss"}, {.data_src = "loss"}}});
      },
      {"'loss' twice"});
}

TEST(LogProcessor, Eta) {
  EXPECT_EQ(format_eta(0.9), "0:00:00");
  EXPECT_EQ(format_eta(2472), "0:41:12");
  EXPECT_EQ(format_eta(86400 + 2 * 3600 + 56 * 60 + 8), "1 day, 2:56:08");
  EXPECT_EQ(format_eta(3 * 86400), "3 days, 0:00:00");
}

TEST(Logger, FileLinesAndLevels) {
  const std::string path = ::testing::TempDir() + "/anvil_logger/run.log";
  std::filesystem::remove_all(::testing::TempDir() + "/anvil_logger");
  {
    Logger log("anvil", path, LogLevel::info);
    log.debug("hidden");
    log.info("Epoch(train) [1][10/25]  loss: 1.7388");
    log.warning("careful");
    Logger other_rank("anvil", path, LogLevel::info, /*rank=*/1);
    other_rank.info("not in the file");
  }
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  const std::regex line(
      R"(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} - anvil - INFO - Epoch\(train\) \[1\]\[10/25\]  loss: 1.7388
\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} - anvil - WARNING - careful
)");
  EXPECT_TRUE(std::regex_match(s.str(), line)) << s.str();
  EXPECT_EQ(parse_log_level("ERROR"), LogLevel::error);
  testing::expect_error([] { parse_log_level("LOUD"); }, {"LOUD", "DEBUG, INFO"});
}

}  // namespace
}  // namespace anvil::engine
