#include "autograd/checkpoint.h"

#include "autograd/autocast.h"
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/saved_tensor.h"
#include "tensor/generator.h"

namespace anvil::autograd {

namespace {

// Seeds and offsets of the CPU and every CUDA default generator.
struct RngState {
  struct Entry {
    Device device;
    uint64_t seed;
    uint64_t offset;
  };
  std::vector<Entry> entries;

  static RngState capture() {
    RngState s;
    s.add(Device::cpu());
    for (int i = 0; i < cuda_device_count(); ++i) s.add(Device::cuda(i));
    return s;
  }
  void restore() const {
    for (const Entry& e : entries) {
      Generator& g = default_generator(e.device);
      g.manual_seed(e.seed);
      g.set_offset(e.offset);
    }
  }

 private:
  void add(Device d) {
    const Generator& g = default_generator(d);
    entries.push_back({d, g.seed(), g.offset()});
  }
};

// The autocast state of both device types when the forward ran: the recomputation runs under it
// again (as torch.utils.checkpoint's), so that it makes the graph the forward would have.
struct AutocastState {
  struct Entry {
    bool enabled;
    DType dtype;
  };
  Entry cpu, cuda;

  static AutocastState capture() {
    auto entry = [](DeviceType d) {
      return Entry{AutocastMode::is_enabled(d), AutocastMode::dtype(d)};
    };
    return {entry(DeviceType::cpu), entry(DeviceType::cuda)};
  }
};

struct RestoreOnExit {
  const RngState& state;
  ~RestoreOnExit() { state.restore(); }
};

class CheckpointBackward final : public Node {
 public:
  CheckpointBackward(CheckpointFn fn, const std::vector<Tensor>& inputs, RngState rng,
                     AutocastState autocast)
      : fn_(std::move(fn)), rng_(std::move(rng)), autocast_(autocast) {
    for (const Tensor& t : inputs) inputs_.emplace_back(t);
  }

  std::string name() const override { return "CheckpointBackward"; }
  void release_variables() override {
    for (SavedTensor& s : inputs_) s.release();
  }

  std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) override {
    // Fresh leaves over the saved inputs: the recomputed graph ends at them.
    std::vector<Tensor> inputs;
    std::vector<Tensor> diff_inputs;
    std::vector<size_t> diff_index;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      Tensor x = inputs_[i].unpack(name());
      if (x.defined()) x = x.detach();
      if (needs_input_grad(i)) {
        x.requires_grad_(true);
        diff_inputs.push_back(x);
        diff_index.push_back(i);
      }
      inputs.push_back(std::move(x));
    }
    std::vector<Tensor> outputs;
    {
      // The recomputation draws the numbers the first run drew; the stream then goes on from
      // where it is now.
      const RngState now = RngState::capture();
      const RestoreOnExit restore{now};
      rng_.restore();
      EnableGradGuard enable;
      const AutocastGuard cpu_autocast(DeviceType::cpu, autocast_.cpu.dtype, autocast_.cpu.enabled);
      const AutocastGuard cuda_autocast(DeviceType::cuda, autocast_.cuda.dtype,
                                        autocast_.cuda.enabled);
      outputs = fn_(inputs);
    }
    std::vector<Tensor> roots, root_grads;
    for (size_t i = 0; i < outputs.size() && i < grad_outputs.size(); ++i) {
      if (!outputs[i].defined() || !outputs[i].requires_grad()) continue;
      roots.push_back(outputs[i]);
      root_grads.push_back(grad_outputs[i]);
    }
    std::vector<Tensor> result(num_outputs());
    if (roots.empty()) return result;
    // A backward (not grad()) through the recomputed graph: tensors fn uses without taking them
    // as inputs (a module's parameters) accumulate their gradients as in a plain run.
    backward(roots, root_grads);
    for (size_t k = 0; k < diff_inputs.size(); ++k) result[diff_index[k]] = diff_inputs[k].grad();
    return result;
  }

 private:
  CheckpointFn fn_;
  RngState rng_;
  AutocastState autocast_;
  std::vector<SavedTensor> inputs_;
};

}  // namespace

std::vector<Tensor> checkpoint(const CheckpointFn& fn, const std::vector<Tensor>& inputs) {
  RngState rng = RngState::capture();
  std::vector<Tensor> outputs;
  {
    NoGradGuard no_grad;
    outputs = fn(inputs);
  }
  if (!should_record(inputs)) return outputs;
  // fn may return an input or a view of one: the outputs get their own TensorImpl, so that
  // recording never rewrites an input's history.
  for (Tensor& t : outputs) {
    ANVIL_CHECK(t.defined(), "checkpoint: the function returned an undefined tensor");
    t = t.detach();
  }
  auto node =
      std::make_shared<CheckpointBackward>(fn, inputs, std::move(rng), AutocastState::capture());
  connect(node, inputs, outputs);
  return outputs;
}

}  // namespace anvil::autograd
