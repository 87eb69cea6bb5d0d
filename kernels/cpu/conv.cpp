// CPU convolutions. f32 runs on oneDNN's convolution primitives (forward, backward-data,
// backward-weights): each problem (shapes, geometry, dtype, thread count) gets a plan once — the
// primitive, with the memory layouts oneDNN prefers, and the reorders between those and the
// user's plain NCHW / OIHW tensors — and a weight's reordered copy is kept until the weight
// changes (its storage's version moves), so inference does not redo it per call. bf16 runs on the
// same plans in bf16 where the CPU has AVX512-BF16 (oneDNN's jit_bf16 kernels accumulate in f32;
// 2-3x faster than f32 on a Zen 4 core for ResNet's 3x3 convolutions); f16, and bf16 elsewhere,
// convert to f32 and back (rounding once). f64 and integer types run im2col + GEMM in double or
// int64 (Eigen), one sample at a time, samples in parallel.
#include <oneapi/dnnl/dnnl.hpp>

// GCC 12 flags Eigen's AVX-512 packet code (_mm512_undefined_*) as maybe-uninitialized: a false
// positive inside Eigen that would otherwise drown this file's warnings.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil::cpu {

namespace {

// ---- im2col + GEMM (f64 and integers) ---------------------------------------------------------

template <class T>
using AccOf = std::conditional_t<is_floating_v<T>, double, int64_t>;

template <class A>
using RowMat = Eigen::Matrix<A, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class A>
using MatMap = Eigen::Map<RowMat<A>>;
template <class A>
using ConstMatMap = Eigen::Map<const RowMat<A>>;

// One 4-D operand read or written through its strides.
template <class T>
struct Strided4 {
  T* data;
  int64_t s0, s1, s2, s3;
  explicit Strided4(const Tensor& t)
      : data(static_cast<T*>(t.raw_data())),
        s0(t.stride(0)),
        s1(t.stride(1)),
        s2(t.stride(2)),
        s3(t.stride(3)) {}
  T& operator()(int64_t n, int64_t c, int64_t y, int64_t x) const {
    return data[n * s0 + c * s1 + y * s2 + x * s3];
  }
};

// The geometry of one group of one sample as a GEMM: rows of the column matrix are
// (c, i, j) in weight order, columns the output positions (y, x).
struct Geometry {
  int64_t group_in, group_out, kh, kw, H, W, Ho, Wo;
  Conv2dParams p;
  int64_t k() const { return group_in * kh * kw; }
  int64_t l() const { return Ho * Wo; }
  // Input row / column read by output row y through tap i (may be outside the input).
  int64_t iy(int64_t y, int64_t i) const {
    return y * p.stride[0] - p.pad_begin[0] + i * p.dilation[0];
  }
  int64_t ix(int64_t x, int64_t j) const {
    return x * p.stride[1] - p.pad_begin[1] + j * p.dilation[1];
  }
};

Geometry geometry(const Tensor& input, const Tensor& weight_or_grad, const Tensor& out,
                  const Conv2dParams& p) {
  // weight_or_grad is [O, C/groups, kH, kW]; out is the convolution's output [N, O, Ho, Wo].
  return {weight_or_grad.size(1),
          weight_or_grad.size(0) / p.groups,
          weight_or_grad.size(2),
          weight_or_grad.size(3),
          input.size(2),
          input.size(3),
          out.size(2),
          out.size(3),
          p};
}

// cols[k, l] = input[n, c0 + c, iy, ix] (0 in the padding).
template <class T, class A>
void im2col(const Strided4<const T>& in, int64_t n, int64_t c0, const Geometry& g, A* cols) {
  for (int64_t c = 0; c < g.group_in; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        A* row = cols + ((c * g.kh + i) * g.kw + j) * g.l();
        for (int64_t y = 0; y < g.Ho; ++y) {
          const int64_t iy = g.iy(y, i);
          for (int64_t x = 0; x < g.Wo; ++x) {
            const int64_t ix = g.ix(x, j);
            const bool inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
            row[y * g.Wo + x] = inside ? static_cast<A>(acc_t<T>(in(n, c0 + c, iy, ix))) : A(0);
          }
        }
      }
}

// grad_input[n, c0 + c, iy, ix] += cols[k, l] (the adjoint of im2col).
template <class A>
void col2im(const A* cols, const Geometry& g, A* image) {
  for (int64_t c = 0; c < g.group_in; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const A* row = cols + ((c * g.kh + i) * g.kw + j) * g.l();
        for (int64_t y = 0; y < g.Ho; ++y) {
          const int64_t iy = g.iy(y, i);
          if (iy < 0 || iy >= g.H) continue;
          for (int64_t x = 0; x < g.Wo; ++x) {
            const int64_t ix = g.ix(x, j);
            if (ix >= 0 && ix < g.W) image[(c * g.H + iy) * g.W + ix] += row[y * g.Wo + x];
          }
        }
      }
}

// [rows, cols] of a 4-D operand at sample n, channels c0.., flattened per channel.
template <class T, class A>
std::vector<A> gather_rows(const Strided4<const T>& t, int64_t n, int64_t c0, int64_t rows,
                           int64_t h, int64_t w) {
  std::vector<A> v(static_cast<size_t>(rows * h * w));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        v[(r * h + y) * w + x] = static_cast<A>(acc_t<T>(t(n, c0 + r, y, x)));
  return v;
}

// The weight [O, C/groups * kH * kW] in the accumulation type.
template <class T, class A>
std::vector<A> weight_matrix(const Tensor& weight) {
  const Strided4<const T> w(weight);
  std::vector<A> v;
  v.reserve(static_cast<size_t>(weight.numel()));
  for (int64_t o = 0; o < weight.size(0); ++o)
    for (int64_t c = 0; c < weight.size(1); ++c)
      for (int64_t i = 0; i < weight.size(2); ++i)
        for (int64_t j = 0; j < weight.size(3); ++j)
          v.push_back(static_cast<A>(acc_t<T>(w(o, c, i, j))));
  return v;
}

template <class T>
void forward_gemm(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Conv2dParams& p) {
  using A = AccOf<T>;
  const Geometry g = geometry(input, weight, out, p);
  const std::vector<A> wm = weight_matrix<T, A>(weight);
  const Strided4<const T> in(input);
  const Strided4<T> o(out);
  const int64_t O = out.size(1);
  std::vector<A> b(static_cast<size_t>(O), A(0));
  for (int64_t c = 0; c < O && bias.defined(); ++c) {
    b[c] = static_cast<A>(acc_t<T>(static_cast<const T*>(bias.raw_data())[c * bias.stride(0)]));
  }
  parallel_for(0, out.size(0), 1, [&](int64_t n0, int64_t n1) {
    std::vector<A> cols(static_cast<size_t>(g.k() * g.l())),
        res(static_cast<size_t>(g.group_out * g.l()));
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        im2col<T>(in, n, grp * g.group_in, g, cols.data());
        MatMap<A>(res.data(), g.group_out, g.l()).noalias() =
            ConstMatMap<A>(wm.data() + grp * g.group_out * g.k(), g.group_out, g.k()) *
            ConstMatMap<A>(cols.data(), g.k(), g.l());
        for (int64_t r = 0; r < g.group_out; ++r) {
          const int64_t oc = grp * g.group_out + r;
          for (int64_t y = 0; y < g.Ho; ++y)
            for (int64_t x = 0; x < g.Wo; ++x)
              o(n, oc, y, x) = cast_value<T>(res[r * g.l() + y * g.Wo + x] + b[oc]);
        }
      }
    }
  });
}

template <class T>
void backward_input_gemm(const Tensor& grad_input, const Tensor& grad_output, const Tensor& weight,
                         const Conv2dParams& p) {
  using A = AccOf<T>;
  const Geometry g = geometry(grad_input, weight, grad_output, p);
  const std::vector<A> wm = weight_matrix<T, A>(weight);
  const Strided4<const T> go(grad_output);
  const Strided4<T> gi(grad_input);
  parallel_for(0, grad_input.size(0), 1, [&](int64_t n0, int64_t n1) {
    std::vector<A> cols(static_cast<size_t>(g.k() * g.l()));
    std::vector<A> image(static_cast<size_t>(g.group_in * g.H * g.W));
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        const std::vector<A> gm =
            gather_rows<T, A>(go, n, grp * g.group_out, g.group_out, g.Ho, g.Wo);
        MatMap<A>(cols.data(), g.k(), g.l()).noalias() =
            ConstMatMap<A>(wm.data() + grp * g.group_out * g.k(), g.group_out, g.k()).transpose() *
            ConstMatMap<A>(gm.data(), g.group_out, g.l());
        std::fill(image.begin(), image.end(), A(0));
        col2im(cols.data(), g, image.data());
        for (int64_t c = 0; c < g.group_in; ++c)
          for (int64_t y = 0; y < g.H; ++y)
            for (int64_t x = 0; x < g.W; ++x)
              gi(n, grp * g.group_in + c, y, x) = cast_value<T>(image[(c * g.H + y) * g.W + x]);
      }
    }
  });
}

template <class T>
void backward_weight_gemm(const Tensor& grad_weight, const Tensor& grad_bias,
                          const Tensor& grad_output, const Tensor& input, const Conv2dParams& p) {
  using A = AccOf<T>;
  const Geometry g = geometry(input, grad_weight, grad_output, p);
  const Strided4<const T> go(grad_output), in(input);
  const int64_t O = grad_weight.size(0);
  // Summed over the samples in order: Eigen threads each product.
  std::vector<A> gw(static_cast<size_t>(O * g.k()), A(0)), gb(static_cast<size_t>(O), A(0));
  std::vector<A> cols(static_cast<size_t>(g.k() * g.l()));
  for (int64_t n = 0; n < input.size(0); ++n) {
    for (int64_t grp = 0; grp < p.groups; ++grp) {
      im2col<T>(in, n, grp * g.group_in, g, cols.data());
      const std::vector<A> gm =
          gather_rows<T, A>(go, n, grp * g.group_out, g.group_out, g.Ho, g.Wo);
      const ConstMatMap<A> gmat(gm.data(), g.group_out, g.l());
      MatMap<A>(gw.data() + grp * g.group_out * g.k(), g.group_out, g.k()).noalias() +=
          gmat * ConstMatMap<A>(cols.data(), g.k(), g.l()).transpose();
      for (int64_t r = 0; r < g.group_out; ++r) gb[grp * g.group_out + r] += gmat.row(r).sum();
    }
  }
  T* pw = static_cast<T*>(grad_weight.raw_data());  // contiguous
  for (size_t i = 0; i < gw.size(); ++i) pw[i] = cast_value<T>(gw[i]);
  if (grad_bias.defined()) {
    T* pb = static_cast<T*>(grad_bias.raw_data());
    for (int64_t c = 0; c < O; ++c) pb[c] = cast_value<T>(gb[c]);
  }
}

// ---- oneDNN (f32, bf16) ------------------------------------------------------------------------

using dnnl::memory;
using Tag = memory::format_tag;
using Int2 = std::array<int64_t, 2>;

const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

enum class Pass : uint8_t { forward, backward_data, backward_weights };

// What a plan is made for; one plan serves every call with this key.
struct PlanKey {
  Pass pass;
  bool bias;
  DType dtype;  // of every operand: f32, or bf16 where runs_native()
  int threads;
  std::array<int64_t, 4> input, weight, output;  // [N,C,H,W], [O,C/g,kH,kW], [N,O,Ho,Wo]
  Conv2dParams p;
  bool operator==(const PlanKey&) const = default;
};

struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const {
    size_t h = static_cast<size_t>(k.pass) * 31 + k.bias * 7 + static_cast<size_t>(k.threads) +
               static_cast<size_t>(k.dtype) * 131;
    auto mix = [&h](int64_t v) { h = h * 1000003u ^ static_cast<size_t>(v); };
    for (const auto* a : {&k.input, &k.weight, &k.output})
      for (int64_t v : *a) mix(v);
    for (const auto* a : {&k.p.stride, &k.p.dilation, &k.p.pad_begin, &k.p.pad_end})
      for (int64_t v : *a) mix(v);
    mix(k.p.groups);
    return h;
  }
};

// A weight's copy in a primitive's layout, valid while the weight's storage lives (the weak
// pointer also tells a new storage at a freed one's address apart) at the version it was made
// from. Keyed by the plan argument it is for and the weight's storage and offset.
struct ReorderedWeight {
  std::weak_ptr<StorageImpl> storage;
  uint64_t version;
  Tensor buffer;
};

struct CopyKey {
  const void* arg;
  const StorageImpl* storage;
  int64_t offset;
  bool operator==(const CopyKey&) const = default;
};

struct CopyKeyHash {
  size_t operator()(const CopyKey& k) const {
    return std::hash<const void*>()(k.arg) * 31 + std::hash<const void*>()(k.storage) * 7 +
           static_cast<size_t>(k.offset);
  }
};

// One argument of a primitive: the user's plain layout, the primitive's, and the reorder
// between them (plain -> inner for inputs, inner -> plain for outputs; none when they agree).
struct PlanArg {
  int id;  // DNNL_ARG_*
  bool output;
  memory::desc plain, inner;
  dnnl::reorder reorder;
  bool cache;  // an input weight: keep its reordered copy (see ReorderedWeight)
};

struct Plan {
  dnnl::primitive primitive;
  std::vector<PlanArg> args;
  size_t scratch_bytes = 0;
};

memory::dims dims(const std::array<int64_t, 4>& a) {
  return {a[0], a[1], a[2], a[3]};
}

// The weight as oneDNN sees it: [G, O/G, C/G, kH, kW] when grouped.
memory::desc weight_desc(const std::array<int64_t, 4>& w, int64_t groups, memory::data_type dt,
                         bool plain) {
  if (groups == 1) return memory::desc(dims(w), dt, plain ? Tag::oihw : Tag::any);
  return memory::desc({groups, w[0] / groups, w[1], w[2], w[3]}, dt, plain ? Tag::goihw : Tag::any);
}

PlanArg plan_arg(int id, bool output, const memory::desc& plain, const memory::desc& inner,
                 bool cache = false) {
  PlanArg a{id, output, plain, inner, {}, cache && plain != inner};
  if (plain != inner) {
    a.reorder =
        output ? dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), plain))
               : dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plain, engine(), inner));
  }
  return a;
}

// Whether the activations stay in the user's NCHW layout, or go to the layout oneDNN prefers
// (`any`: channel-blocked, nChw16c, for most shapes) through reorders in and out. Blocked wins,
// reorders included, by 1.3x (3x3 64->64 at 32x32) to 4.5x (depthwise 3x3) for most 3x3 and
// grouped convolutions; measured on one thread (AVX-512, oneDNN 2.6, CPU time per pass), plain
// wins for
//   - 1x1 kernels without padding (a GEMM over the NCHW data, e.g. 256->64 at 56x56: 3.7 ms
//     plain, 5.9 ms blocked forward; 0.67 vs 1.15 at 8x8),
//   - backward-data with fewer than 8 input channels (a first layer: 5x5 1->20 at 28x28,
//     1.2 ms plain vs 8.8 ms blocked, whose 16-channel blocks would be mostly padding),
//   - backward-weights at 7x7 or smaller outputs (3x3 512->512 at 7x7, batch 16: 39 ms plain vs
//     56 ms blocked; at 8x8 blocked wins again).
bool pointwise(const PlanKey& k) {
  return k.weight[2] == 1 && k.weight[3] == 1 && k.p.pad_begin == Int2{0, 0} &&
         k.p.pad_end == Int2{0, 0};
}

//
// bf16 (oneDNN's plain bf16 path is an im2col GEMM, x64:gemm:jit) keeps only the first layer's
// backward-data plain (3x3 3->64 at 32x32, batch 32: 7.8 ms plain vs 19.2 blocked); elsewhere
// the blocked jit_bf16 kernels win, by 1.8x (1x1 64->128 stride 2 at 32x32, forward) to 3.5x
// (backward-weights of 3x3 512->512 at 4x4), primitive times on one Zen 4 core.
bool plain_activations(const PlanKey& k) {
  if (k.dtype == DType::bf16) return k.pass == Pass::backward_data && k.input[1] < 8;
  if (pointwise(k)) return true;
  if (k.pass == Pass::backward_data) return k.input[1] < 8;
  if (k.pass == Pass::backward_weights) return k.output[2] * k.output[3] <= 49;
  return false;
}

std::unique_ptr<Plan> make_plan(const PlanKey& k) {
  const auto dt = k.dtype == DType::bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  const memory::dims strides{k.p.stride[0], k.p.stride[1]};
  const memory::dims dilates{k.p.dilation[0] - 1, k.p.dilation[1] - 1};
  const memory::dims pad_l{k.p.pad_begin[0], k.p.pad_begin[1]};
  const memory::dims pad_r{k.p.pad_end[0], k.p.pad_end[1]};
  const memory::desc src_plain(dims(k.input), dt, Tag::nchw);
  const memory::desc dst_plain(dims(k.output), dt, Tag::nchw);
  const memory::desc wei_plain = weight_desc(k.weight, k.p.groups, dt, true);
  const memory::desc bias_plain({k.weight[0]}, dt, Tag::x);
  const bool plain = plain_activations(k);
  const memory::desc src_any(dims(k.input), dt, plain ? Tag::nchw : Tag::any);
  const memory::desc dst_any(dims(k.output), dt, plain ? Tag::nchw : Tag::any);
  const memory::desc wei_any = weight_desc(k.weight, k.p.groups, dt, false);
  const memory::desc no_bias;
  const memory::desc bias_any = k.bias ? memory::desc({k.weight[0]}, dt, Tag::any) : no_bias;

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto algo = dnnl::algorithm::convolution_direct;
  const dnnl::convolution_forward::desc fwd_desc(
      dnnl::prop_kind::forward_training, algo, src_any, wei_any,
      k.pass == Pass::forward ? bias_any : no_bias, dst_any, strides, dilates, pad_l, pad_r);
  const dnnl::convolution_forward::primitive_desc fwd(fwd_desc, attr, engine());

  auto plan = std::make_unique<Plan>();
  if (k.pass == Pass::forward) {
    plan->primitive = dnnl::convolution_forward(fwd);
    plan->args.push_back(plan_arg(DNNL_ARG_SRC, false, src_plain, fwd.src_desc()));
    plan->args.push_back(plan_arg(DNNL_ARG_WEIGHTS, false, wei_plain, fwd.weights_desc(), true));
    if (k.bias) plan->args.push_back(plan_arg(DNNL_ARG_BIAS, false, bias_plain, fwd.bias_desc()));
    plan->args.push_back(plan_arg(DNNL_ARG_DST, true, dst_plain, fwd.dst_desc()));
    plan->scratch_bytes = fwd.scratchpad_desc().get_size();
  } else if (k.pass == Pass::backward_data) {
    const dnnl::convolution_backward_data::primitive_desc bwd(
        dnnl::convolution_backward_data::desc(algo, src_any, wei_any, dst_any, strides, dilates,
                                              pad_l, pad_r),
        attr, engine(), fwd);
    plan->primitive = dnnl::convolution_backward_data(bwd);
    plan->args.push_back(plan_arg(DNNL_ARG_DIFF_DST, false, dst_plain, bwd.diff_dst_desc()));
    plan->args.push_back(plan_arg(DNNL_ARG_WEIGHTS, false, wei_plain, bwd.weights_desc(), true));
    plan->args.push_back(plan_arg(DNNL_ARG_DIFF_SRC, true, src_plain, bwd.diff_src_desc()));
    plan->scratch_bytes = bwd.scratchpad_desc().get_size();
  } else {
    const dnnl::convolution_backward_weights::primitive_desc bwd(
        dnnl::convolution_backward_weights::desc(algo, src_any, wei_any, bias_any, dst_any, strides,
                                                 dilates, pad_l, pad_r),
        attr, engine(), fwd);
    plan->primitive = dnnl::convolution_backward_weights(bwd);
    plan->args.push_back(plan_arg(DNNL_ARG_SRC, false, src_plain, bwd.src_desc()));
    plan->args.push_back(plan_arg(DNNL_ARG_DIFF_DST, false, dst_plain, bwd.diff_dst_desc()));
    plan->args.push_back(plan_arg(DNNL_ARG_DIFF_WEIGHTS, true, wei_plain, bwd.diff_weights_desc()));
    if (k.bias) {
      plan->args.push_back(plan_arg(DNNL_ARG_DIFF_BIAS, true, bias_plain, bwd.diff_bias_desc()));
    }
    plan->scratch_bytes = bwd.scratchpad_desc().get_size();
  }
  return plan;
}

// Plans and weight copies are shared by all threads; one lock guards both (held for lookups,
// plan creation and weight reorders, not while a convolution runs).
std::mutex& plans_mutex() {
  static std::mutex m;
  return m;
}

Plan& plan_for(const PlanKey& k) {
  static std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash> plans;
  std::unique_ptr<Plan>& slot = plans[k];
  if (!slot) slot = make_plan(k);
  return *slot;
}

// A byte buffer from anvil's caching allocator (so that a training step reuses the same blocks).
Tensor bytes(size_t n) {
  return empty({static_cast<int64_t>(n)}, DType::u8);
}

// The weight in the primitive's layout: the kept copy when the weight has not changed since it
// was made, else a fresh reorder (kept for next time). Called with plans_mutex() held.
Tensor reordered_weight(const PlanArg& a, const Tensor& w, dnnl::stream& s) {
  static std::unordered_map<CopyKey, ReorderedWeight, CopyKeyHash> copies;
  const Storage& st = w.storage();
  const CopyKey key{&a, st.get(), w.offset()};
  auto it = copies.find(key);
  if (it != copies.end() && it->second.storage.lock() == st && it->second.version == w.version()) {
    return it->second.buffer;
  }
  Tensor buffer = bytes(a.inner.get_size());
  memory user(a.plain, engine(), w.raw_data()), inner(a.inner, engine(), buffer.raw_data());
  a.reorder.execute(s, user, inner);
  s.wait();
  // The copies of weights that died go now (a new copy is rare: once per weight update).
  std::erase_if(copies, [](const auto& kv) { return kv.second.storage.expired(); });
  // A new buffer, not an overwrite: a convolution still running on the old copy keeps it.
  copies[key] = {st, w.version(), buffer};
  return buffer;
}

// Runs the plan on contiguous tensors given in the order of its arguments.
void run_plan(const PlanKey& key, const std::vector<Tensor>& tensors) {
  thread_local dnnl::stream s(engine());
  std::unordered_map<int, memory> exec;
  std::vector<Tensor> keep;  // temporaries alive until the primitive is done
  std::vector<std::pair<const PlanArg*, memory>> outputs;
  Plan* plan;
  {
    std::lock_guard<std::mutex> lock(plans_mutex());
    plan = &plan_for(key);
    for (size_t i = 0; i < plan->args.size(); ++i) {
      const PlanArg& a = plan->args[i];
      if (a.cache) {
        keep.push_back(reordered_weight(a, tensors[i], s));
        exec[a.id] = memory(a.inner, engine(), keep.back().raw_data());
      }
    }
  }
  for (size_t i = 0; i < plan->args.size(); ++i) {
    const PlanArg& a = plan->args[i];
    if (a.cache) continue;
    memory user(a.plain, engine(), tensors[i].raw_data());
    if (!a.reorder) {
      exec[a.id] = user;
      continue;
    }
    keep.push_back(bytes(a.inner.get_size()));
    memory inner(a.inner, engine(), keep.back().raw_data());
    if (a.output) {
      outputs.emplace_back(&a, user);
    } else {
      a.reorder.execute(s, user, inner);
    }
    exec[a.id] = inner;
  }
  if (plan->scratch_bytes > 0) {
    keep.push_back(bytes(plan->scratch_bytes));
    exec[DNNL_ARG_SCRATCHPAD] = memory(
        memory::desc({static_cast<int64_t>(plan->scratch_bytes)}, memory::data_type::u8, Tag::x),
        engine(), keep.back().raw_data());
  }
  plan->primitive.execute(s, exec);
  for (auto& [a, user] : outputs) a->reorder.execute(s, exec.at(a->id), user);
  s.wait();
}

std::array<int64_t, 4> shape4(const Tensor& t) {
  return {t.size(0), t.size(1), t.size(2), t.size(3)};
}

PlanKey plan_key(Pass pass, bool bias, const Tensor& input, const Tensor& weight,
                 const Tensor& output, const Conv2dParams& p) {
  return {pass,          bias,           input.dtype(),  num_threads(),
          shape4(input), shape4(weight), shape4(output), p};
}

// ---- batch-folded im2col GEMM (f32, small outputs)
// ------------------------------------------------ At the few output positions of deep layers on
// small images (ResNet-50's layer4 on CIFAR is 1x1), per-sample convolutions are matrix-vector
// products that re-read the weight (or, in backward-weights, re-write its gradient) once per
// sample. Folding the batch into the GEMM's rows — one im2col matrix [N * Ho * Wo, C/g * kH * kW]
// for the whole batch — turns each pass into one well-shaped sgemm per group. Measured per pass on
// one thread (CPU time; AVX-512, oneDNN 2.6; every convolution of ResNet-50 on 32x32 inputs at
// batch 32 and 128), folding wins
//   - for 1x1 kernels at <= 4 output positions, every pass: 2-8x (1024->512 at 2x2, batch 128,
//     forward 28.9 -> 11.9 ms, backward-data 35.1 -> 8.8 ms), where oneDNN's plain GEMMs re-read
//     up to 8 MB of weight per sample;
//   - for larger kernels only in backward-weights while N * positions <= 128 (3x3 512->512 at 1x1:
//     16.6 -> 1.9 ms at batch 32, 88.6 -> 6.5 ms at batch 128);
// elsewhere oneDNN wins (at 8x8 outputs by 2-5x), its blocked direct kernels most of all.
// The folded GEMMs are f32 code: a bf16 problem they would take runs them converted to f32 (see
// runs_native).
bool batch_folded(const PlanKey& k) {
  const int64_t positions = k.output[2] * k.output[3];
  if (pointwise(k)) return positions <= 4;
  return k.pass == Pass::backward_weights && positions * k.output[0] <= 128;
}

// cols[(n * L + l) * K + kidx] for one group (0 in the padding); rows in parallel over samples.
void im2col_batch(const float* in, const std::array<int64_t, 4>& is, const Geometry& g, int64_t c0,
                  float* cols) {
  const int64_t K = g.k(), L = g.l();
  parallel_for(0, is[0], 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* img = in + (n * is[1] + c0) * is[2] * is[3];
      for (int64_t y = 0; y < g.Ho; ++y)
        for (int64_t x = 0; x < g.Wo; ++x) {
          float* row = cols + (n * L + y * g.Wo + x) * K;
          for (int64_t c = 0; c < g.group_in; ++c)
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t iy = g.iy(y, i);
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t ix = g.ix(x, j);
                const bool inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
                *row++ = inside ? img[(c * g.H + iy) * g.W + ix] : 0.f;
              }
            }
        }
    }
  });
}

// The adjoint of im2col_batch: grad_input[n, c0 + c, iy, ix] += dcols[...].
void col2im_batch(const float* dcols, const std::array<int64_t, 4>& is, const Geometry& g,
                  int64_t c0, float* gin) {
  const int64_t K = g.k(), L = g.l();
  parallel_for(0, is[0], 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* img = gin + (n * is[1] + c0) * is[2] * is[3];
      for (int64_t y = 0; y < g.Ho; ++y)
        for (int64_t x = 0; x < g.Wo; ++x) {
          const float* row = dcols + (n * L + y * g.Wo + x) * K;
          for (int64_t c = 0; c < g.group_in; ++c)
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t iy = g.iy(y, i);
              for (int64_t j = 0; j < g.kw; ++j, ++row) {
                const int64_t ix = g.ix(x, j);
                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
                  img[(c * g.H + iy) * g.W + ix] += *row;
              }
            }
        }
    }
  });
}

// [N, O, L] <-> [N * L, O] (the GEMM's row-per-position form), per sample in parallel.
void to_rows(const float* nol, int64_t N, int64_t O, int64_t L, float* rows) {
  parallel_for(0, N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t l = 0; l < L; ++l) rows[(n * L + l) * O + o] = nol[(n * O + o) * L + l];
  });
}

void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
  ANVIL_CHECK(st == dnnl_success, "conv2d: oneDNN sgemm failed (status {})", static_cast<int>(st));
}

Tensor floats(int64_t n) {
  return empty({n}, DType::f32);
}

void forward_folded(const Tensor& out, const Tensor& input, const Tensor& weight,
                    const Tensor& bias, const Conv2dParams& p) {
  const Tensor in = input.contiguous(), w = weight.contiguous();
  const Geometry g = geometry(in, w, out, p);
  const int64_t N = in.size(0), O = out.size(1), L = g.l(), K = g.k();
  Tensor cols = floats(N * L * K), rows = floats(N * L * O);
  float* r = rows.data_ptr<float>();
  for (int64_t grp = 0; grp < p.groups; ++grp) {
    im2col_batch(in.data_ptr<float>(), shape4(in), g, grp * g.group_in, cols.data_ptr<float>());
    sgemm('N', 'T', N * L, g.group_out, K, cols.data_ptr<float>(), K,
          w.data_ptr<float>() + grp * g.group_out * K, K, 0.f, r + grp * g.group_out, O);
  }
  const Tensor b = bias.defined() ? bias.contiguous() : bias;
  float* o = out.data_ptr<float>();
  parallel_for(0, N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t c = 0; c < O; ++c) {
        const float add = b.defined() ? b.data_ptr<float>()[c] : 0.f;
        for (int64_t l = 0; l < L; ++l) o[(n * O + c) * L + l] = r[(n * L + l) * O + c] + add;
      }
  });
}

void backward_input_folded(const Tensor& grad_input, const Tensor& grad_output,
                           const Tensor& weight, const Conv2dParams& p) {
  const Tensor go = grad_output.contiguous(), w = weight.contiguous();
  const Geometry g = geometry(grad_input, w, go, p);
  const int64_t N = go.size(0), O = go.size(1), L = g.l(), K = g.k();
  Tensor rows = floats(N * L * O), dcols = floats(N * L * K);
  to_rows(go.data_ptr<float>(), N, O, L, rows.data_ptr<float>());
  Tensor(grad_input).zero_();
  for (int64_t grp = 0; grp < p.groups; ++grp) {
    sgemm('N', 'N', N * L, K, g.group_out, rows.data_ptr<float>() + grp * g.group_out, O,
          w.data_ptr<float>() + grp * g.group_out * K, K, 0.f, dcols.data_ptr<float>(), K);
    col2im_batch(dcols.data_ptr<float>(), shape4(grad_input), g, grp * g.group_in,
                 grad_input.data_ptr<float>());
  }
}

void backward_weight_folded(const Tensor& grad_weight, const Tensor& grad_bias,
                            const Tensor& grad_output, const Tensor& input, const Conv2dParams& p) {
  const Tensor go = grad_output.contiguous(), in = input.contiguous();
  const Geometry g = geometry(in, grad_weight, go, p);
  const int64_t N = go.size(0), O = go.size(1), L = g.l(), K = g.k();
  Tensor rows = floats(N * L * O), cols = floats(N * L * K);
  to_rows(go.data_ptr<float>(), N, O, L, rows.data_ptr<float>());
  for (int64_t grp = 0; grp < p.groups; ++grp) {
    im2col_batch(in.data_ptr<float>(), shape4(in), g, grp * g.group_in, cols.data_ptr<float>());
    sgemm('T', 'N', g.group_out, K, N * L, rows.data_ptr<float>() + grp * g.group_out, O,
          cols.data_ptr<float>(), K, 0.f, grad_weight.data_ptr<float>() + grp * g.group_out * K, K);
  }
  if (grad_bias.defined()) {
    const float* r = rows.data_ptr<float>();
    float* gb = grad_bias.data_ptr<float>();
    for (int64_t c = 0; c < O; ++c) gb[c] = 0.f;
    for (int64_t i = 0; i < N * L; ++i)
      for (int64_t c = 0; c < O; ++c) gb[c] += r[i * O + c];
  }
}

// The three passes on oneDNN, for f32 and natively run bf16 (see runs_native).
void forward_dnnl(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Conv2dParams& p) {
  const PlanKey key = plan_key(Pass::forward, bias.defined(), input, weight, out, p);
  if (batch_folded(key)) return forward_folded(out, input, weight, bias, p);
  std::vector<Tensor> t{input.contiguous(), weight.contiguous()};
  if (bias.defined()) t.push_back(bias.contiguous());
  t.push_back(out);
  run_plan(key, t);
}

void backward_input_dnnl(const Tensor& grad_input, const Tensor& grad_output, const Tensor& weight,
                         const Conv2dParams& p) {
  const PlanKey key = plan_key(Pass::backward_data, false, grad_input, weight, grad_output, p);
  if (batch_folded(key)) return backward_input_folded(grad_input, grad_output, weight, p);
  run_plan(key, {grad_output.contiguous(), weight.contiguous(), grad_input});
}

void backward_weight_dnnl(const Tensor& grad_weight, const Tensor& grad_bias,
                          const Tensor& grad_output, const Tensor& input, const Conv2dParams& p) {
  const PlanKey key =
      plan_key(Pass::backward_weights, grad_bias.defined(), input, grad_weight, grad_output, p);
  if (batch_folded(key))
    return backward_weight_folded(grad_weight, grad_bias, grad_output, input, p);
  std::vector<Tensor> t{input.contiguous(), grad_output.contiguous(), grad_weight};
  if (grad_bias.defined()) t.push_back(grad_bias);
  run_plan(key, t);
}

// ---- dispatch -----------------------------------------------------------------------------------

// Whether oneDNN runs this dtype itself: f32, and bf16 on CPUs with AVX512-BF16 (or AMX); without
// them oneDNN would emulate bf16, slower than converting to f32.
bool dnnl_native(DType dtype) {
  static const bool bf16 = (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) &
                            dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  return dtype == DType::f32 || (dtype == DType::bf16 && bf16);
}

// Whether a pass runs in its own dtype on oneDNN (f32 always). A bf16 problem that the f32 path
// would batch-fold runs converted to f32 instead: at 1x1 and 2x2 outputs the folded f32 GEMM,
// conversions included, beats oneDNN's bf16 backward-weights (one Zen 4 core, batch 32: 3x3
// 512->512 at 1x1 1.9 ms against 3.8, 3x3 256->512 stride 2 from 2x2 1.0 against 2.7).
bool runs_native(const PlanKey& key) {
  return dnnl_native(key.dtype) && (key.dtype == DType::f32 || !batch_folded(key));
}

Tensor as_f32(const Tensor& t) {
  return t.defined() ? t.to(DType::f32) : t;
}
Tensor f32_like(const Tensor& t) {
  return t.defined() ? empty(t.shape(), DType::f32) : t;
}

// Reduced floating types that do not run natively: in f32, rounded once at the end. (f32 always
// runs natively.)
template <class T>
constexpr bool converted_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;
// f64 and integers (f32 always runs natively).
template <class T>
constexpr bool gemm_v = !converted_v<T> && !std::is_same_v<T, float> && !std::is_same_v<T, bool>;

void conv2d_kernel(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                   const Conv2dParams& p) {
  if (runs_native(plan_key(Pass::forward, bias.defined(), input, weight, out, p))) {
    return forward_dnnl(out, input, weight, bias, p);
  }
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (converted_v<T>) {
      Tensor o = f32_like(out);
      forward_dnnl(o, as_f32(input), as_f32(weight), as_f32(bias), p);
      Tensor(out).copy_(o);
    } else if constexpr (gemm_v<T>) {
      forward_gemm<T>(out, input, weight, bias, p);
    }
  });
}

void backward_input_kernel(const Tensor& grad_input, const Tensor& grad_output,
                           const Tensor& weight, const Conv2dParams& p) {
  if (runs_native(plan_key(Pass::backward_data, false, grad_input, weight, grad_output, p))) {
    return backward_input_dnnl(grad_input, grad_output, weight, p);
  }
  visit_dtype(grad_input.dtype(), [&]<class T>() {
    if constexpr (converted_v<T>) {
      Tensor gi = f32_like(grad_input);
      backward_input_dnnl(gi, as_f32(grad_output), as_f32(weight), p);
      Tensor(grad_input).copy_(gi);
    } else if constexpr (gemm_v<T>) {
      backward_input_gemm<T>(grad_input, grad_output, weight, p);
    }
  });
}

void backward_weight_kernel(const Tensor& grad_weight, const Tensor& grad_bias,
                            const Tensor& grad_output, const Tensor& input, const Conv2dParams& p) {
  if (runs_native(plan_key(Pass::backward_weights, grad_bias.defined(), input, grad_weight,
                           grad_output, p))) {
    return backward_weight_dnnl(grad_weight, grad_bias, grad_output, input, p);
  }
  visit_dtype(grad_weight.dtype(), [&]<class T>() {
    if constexpr (converted_v<T>) {
      Tensor gw = f32_like(grad_weight), gb = f32_like(grad_bias);
      backward_weight_dnnl(gw, gb, as_f32(grad_output), as_f32(input), p);
      Tensor(grad_weight).copy_(gw);
      if (grad_bias.defined()) Tensor(grad_bias).copy_(gb);
    } else if constexpr (gemm_v<T>) {
      backward_weight_gemm<T>(grad_weight, grad_bias, grad_output, input, p);
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(conv2d, cpu, kNumericTypes, conv2d_kernel);
ANVIL_REGISTER_KERNEL(conv2d_backward_input, cpu, kNumericTypes, backward_input_kernel);
ANVIL_REGISTER_KERNEL(conv2d_backward_weight, cpu, kNumericTypes, backward_weight_kernel);

}  // namespace anvil::cpu
