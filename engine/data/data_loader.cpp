#include "engine/data/data_loader.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "tensor/config.h"
#include "tensor/error.h"
#if ANVIL_WITH_CUDA
#include "tensor/cuda/pinned_memory.h"
#endif

namespace anvil::engine {

// Threads that run jobs in submission order; the destructor drops jobs not yet started and joins.
class DataLoader::WorkerPool {
 public:
  using Job = std::function<void(int64_t worker)>;

  explicit WorkerPool(int64_t n) {
    for (int64_t w = 0; w < n; ++w) threads_.emplace_back([this, w] { work(w); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(Job job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void work(int64_t worker) {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job(worker);  // jobs catch their own exceptions
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

namespace {

// What workers and the caller share about one pass: the finished batches by number.
struct Mailbox {
  std::mutex mutex;
  std::condition_variable ready;
  std::map<int64_t, Batch> batches;
  std::map<int64_t, std::exception_ptr> errors;
  bool cancelled = false;
};

struct BatchPlan {
  int64_t number = 0;
  int64_t epoch = 0;
  std::vector<int64_t> indices = {};
  std::vector<int64_t> positions = {};
};

void pin(Batch& batch) {
#if ANVIL_WITH_CUDA
  if (cuda_device_count() == 0) return;
  auto pin_one = [](Tensor& t) {
    if (t.defined()) t = cuda::pin_memory(t);
  };
  pin_one(batch.inputs);
  pin_one(batch.labels);
  pin_one(batch.indices);
  for (auto& [k, t] : batch.fields) pin_one(t);
#else
  (void)batch;  // without CUDA there is no page-locked memory to use
#endif
}

// Loads and collates one batch; an error names the sample that failed.
Batch load_batch(const Dataset& dataset, const CollateFn& collate, bool pin_memory, uint64_t seed,
                 int64_t rank, const BatchPlan& plan, const std::string& who) {
  std::vector<Sample> samples;
  samples.reserve(plan.indices.size());
  for (size_t k = 0; k < plan.indices.size(); ++k) {
    try {
      samples.push_back(dataset.get(
          plan.indices[k],
          RandomKey{
              .seed = seed, .epoch = plan.epoch, .position = plan.positions[k], .rank = rank}));
    } catch (const std::exception& e) {
      throw Error(fmt::format("DataLoader {}: loading sample {} (batch {}, epoch {}) failed: {}",
                              who, plan.indices[k], plan.number, plan.epoch, e.what()));
    }
  }
  try {
    Batch batch = collate ? collate(std::move(samples)) : default_collate(std::move(samples));
    if (pin_memory) pin(batch);
    return batch;
  } catch (const std::exception& e) {
    throw Error(fmt::format("DataLoader {}: collating batch {} (samples {}) failed: {}", who,
                            plan.number, plan.indices, e.what()));
  }
}

}  // namespace

// One pass over an epoch: plans batches from the sampler in the caller's thread, hands them to
// the workers up to num_workers * prefetch_factor ahead, and yields them in order.
class DataLoader::Run {
 public:
  Run(DataLoader& loader, int64_t first_batch)
      : loader_(loader),
        next_batch_(first_batch),
        next_issue_(first_batch),
        batches_(loader.sampler_->endless() ? std::numeric_limits<int64_t>::max() : loader.size()),
        mailbox_(std::make_shared<Mailbox>()) {
    const int64_t workers = loader.options_.num_workers;
    if (workers == 0) return;
    if (loader.options_.persistent_workers) {
      if (!loader.persistent_pool_) loader.persistent_pool_ = std::make_shared<WorkerPool>(workers);
      pool_ = loader.persistent_pool_;
    } else {
      pool_ = std::make_shared<WorkerPool>(workers);
    }
    issue();
  }

  ~Run() {
    std::lock_guard lock(mailbox_->mutex);
    mailbox_->cancelled = true;  // queued jobs of this pass return at once
  }

  std::optional<Batch> next() {
    if (next_batch_ >= batches_) return std::nullopt;
    const int64_t b = next_batch_++;
    if (!pool_) {
      Batch batch =
          load_batch(*loader_.dataset_, loader_.options_.collate_fn, loader_.options_.pin_memory,
                     loader_.sampler_->seed(), loader_.sampler_->rank(), plan(b), "main thread");
      loader_.iteration_ = b + 1;
      return batch;
    }
    std::unique_lock lock(mailbox_->mutex);
    mailbox_->ready.wait(
        lock, [&] { return mailbox_->batches.count(b) != 0 || mailbox_->errors.count(b) != 0; });
    if (auto error = mailbox_->errors.find(b); error != mailbox_->errors.end())
      std::rethrow_exception(error->second);
    Batch batch = std::move(mailbox_->batches.at(b));
    mailbox_->batches.erase(b);
    lock.unlock();
    issue();
    loader_.iteration_ = b + 1;
    return batch;
  }

 private:
  BatchPlan plan(int64_t b) const {
    const DataLoaderOptions& o = loader_.options_;
    BatchPlan p{.number = b, .epoch = loader_.sampler_->epoch()};
    for (int64_t pos = b * o.batch_size; pos < (b + 1) * o.batch_size; ++pos) {
      const auto index = loader_.sampler_->index_at(pos);
      if (!index) break;
      p.indices.push_back(*index);
      p.positions.push_back(pos);
    }
    return p;
  }

  void issue() {
    const DataLoaderOptions& o = loader_.options_;
    const int64_t ahead = o.num_workers * std::max<int64_t>(o.prefetch_factor, 1);
    while (next_issue_ < batches_ && next_issue_ < next_batch_ + ahead) {
      auto job = [mailbox = mailbox_, dataset = loader_.dataset_, collate = o.collate_fn,
                  pin_memory = o.pin_memory, seed = loader_.sampler_->seed(),
                  rank = loader_.sampler_->rank(), p = plan(next_issue_)](int64_t worker) {
        {
          std::lock_guard lock(mailbox->mutex);
          if (mailbox->cancelled) return;
        }
        std::optional<Batch> batch;
        std::exception_ptr error;
        try {
          batch = load_batch(*dataset, collate, pin_memory, seed, rank, p,
                             fmt::format("worker {}", worker));
        } catch (...) {
          error = std::current_exception();
        }
        {
          std::lock_guard lock(mailbox->mutex);
          if (error) {
            mailbox->errors[p.number] = error;
          } else {
            mailbox->batches[p.number] = std::move(*batch);
          }
        }
        mailbox->ready.notify_all();
      };
      pool_->submit(std::move(job));
      ++next_issue_;
    }
  }

  DataLoader& loader_;
  int64_t next_batch_;
  int64_t next_issue_;
  int64_t batches_;
  std::shared_ptr<Mailbox> mailbox_;
  std::shared_ptr<WorkerPool> pool_;
};

DataLoader::Iterator::Iterator(std::shared_ptr<Run> run) : run_(std::move(run)) {
  ++*this;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  current_ = run_->next();
  if (!current_) run_.reset();  // the pass is over: release its workers now
  return *this;
}

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, std::shared_ptr<Sampler> sampler,
                       DataLoaderOptions options)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), options_(std::move(options)) {
  ANVIL_CHECK(dataset_ != nullptr, "DataLoader: no dataset");
  ANVIL_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got {}",
              options_.batch_size);
  ANVIL_CHECK(options_.num_workers >= 0, "DataLoader: num_workers must be >= 0, got {}",
              options_.num_workers);
  ANVIL_CHECK(options_.prefetch_factor >= 1, "DataLoader: prefetch_factor must be >= 1, got {}",
              options_.prefetch_factor);
  dataset_->full_init();
  if (!sampler_)
    sampler_ = std::make_shared<DefaultSampler>(*dataset_,
                                                DefaultSamplerOptions{.shuffle = false, .seed = 0});
}

DataLoader::~DataLoader() = default;

int64_t DataLoader::size() const {
  const int64_t n = sampler_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::load_state(const DataLoaderState& state) {
  ANVIL_CHECK(state.epoch >= 0 && state.iteration >= 0,
              "DataLoader::load_state: epoch {} and iteration {} must be >= 0", state.epoch,
              state.iteration);
  sampler_->set_epoch(state.epoch);
  resume_batch_ = state.iteration;
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t first = std::exchange(resume_batch_, 0);
  iteration_ = first;
  return Iterator(std::make_shared<Run>(*this, first));
}

}  // namespace anvil::engine
