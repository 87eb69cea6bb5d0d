// Hook priorities and ordering (MMEngine's runner/priority.py and Runner.register_hook).
#include <gtest/gtest.h>

#include <cstddef>

#include "common/op_test.h"
#include "engine/hooks/hook.h"

namespace anvil::engine {
namespace {

// Records the order in which hooks are called.
struct Probe : Hook {
  Probe(std::string n, int p, std::vector<std::string>* log) : n_(std::move(n)), p_(p), log_(log) {}
  std::string name() const override { return n_; }
  int priority() const override { return p_; }
  void before_train_epoch(Runner&) override { log_->push_back(n_); }
  void after_train_iter(Runner&, int64_t batch_idx, const Batch&, const Scalars& vars) override {
    log_->push_back(n_ + ":" + std::to_string(batch_idx) + ":" + vars.front().first);
  }
  std::string n_;
  int p_;
  std::vector<std::string>* log_;
};

TEST(Hooks, PriorityOrderAndTiesInRegistrationOrder) {
  std::vector<std::string> log;
  HookList hooks;
  hooks.add(std::make_shared<Probe>("Checkpoint", 90, &log));
  hooks.add(std::make_shared<Probe>("RuntimeInfo", 10, &log));
  hooks.add(std::make_shared<Probe>("IterTimer", 50, &log));
  hooks.add(std::make_shared<Probe>("DistSamplerSeed", 50, &log));
  hooks.add(std::make_shared<Probe>("Logger", 60, &log));
  hooks.add(std::make_shared<Probe>("EMA", 50, &log));  // a custom NORMAL hook: after the others
  hooks.add(std::make_shared<Probe>("Early", 100, &log));
  hooks.add(std::make_shared<Probe>("Override", 50, &log), parse_priority("highest"));
  // The probes never touch the runner: any address stands in for one.
  alignas(std::max_align_t) char storage[64];
  Runner& runner = *reinterpret_cast<Runner*>(storage);
  hooks.call(&Hook::before_train_epoch, runner);
  EXPECT_EQ(log,
            (std::vector<std::string>{"Override", "RuntimeInfo", "IterTimer", "DistSamplerSeed",
                                      "EMA", "Logger", "Checkpoint", "Early"}));
  log.clear();
  hooks.call(&Hook::after_train_iter, runner, int64_t{3}, Batch{}, Scalars{{"loss", 1.0}});
  EXPECT_EQ(log.front(), "Override:3:loss");
  EXPECT_EQ(hooks.describe().substr(0, 32), "(HIGHEST     ) Override\n(VERY_HI");
}

TEST(Hooks, ParsePriorityAndEveryN) {
  EXPECT_EQ(parse_priority("VERY_LOW"), 90);
  EXPECT_EQ(parse_priority("below_normal"), 60);
  EXPECT_EQ(parse_priority("35"), 35);
  testing::expect_error([] { parse_priority("urgent"); }, {"urgent", "VERY_HIGH"});
  testing::expect_error([] { parse_priority("101"); }, {"101", "0..100"});
  EXPECT_TRUE(every_n(4, 5));  // the 5th epoch
  EXPECT_FALSE(every_n(5, 5));
  EXPECT_TRUE(every_n(6, 5, 2));  // (6 + 1 - 2) % 5 == 0
  EXPECT_FALSE(every_n(0, 5, 2));
  EXPECT_FALSE(every_n(3, 0));
}

}  // namespace
}  // namespace anvil::engine
