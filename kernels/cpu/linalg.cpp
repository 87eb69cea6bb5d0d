// CPU GEMM: f32 through oneDNN's sgemm (JIT-compiled AVX-512, OpenMP threads) or Eigen for tiny
// products, f64 through Eigen, bf16 through oneDNN's bf16 matmul where the CPU has AVX512-BF16,
// f16 (and bf16 elsewhere) as f32 blocks rounded once at the end, integers and bool through plain
// loops. Operands are read in place when a BLAS can address them (one
// stride 1, the other at least the row length) and packed otherwise.
#include <oneapi/dnnl/dnnl.hpp>

// GCC 12 flags Eigen's AVX-512 packet code (_mm512_undefined_*) as maybe-uninitialized: a false
// positive inside Eigen that would otherwise drown this file's warnings.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#include <atomic>
#include <string_view>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

// Below this many multiply-adds Eigen's GEMM beats oneDNN's call overhead (measured: 16^3
// takes 0.2 us in Eigen, 0.4-0.6 us in oneDNN; they meet near 30^3).
constexpr int64_t kSmallGemm = 32 * 32 * 32;
// Batches of GEMMs below this many multiply-adds each run in parallel over the batch, each
// GEMM on one thread; larger ones run one after another, each threaded by the BLAS.
constexpr int64_t kParallelBatchWork = 64 * 64 * 64;

// One matrix: rows x cols elements at `data`, strides in elements.
template <class T>
struct Mat {
  T* data;
  int64_t rows, cols, rs, cs;
  Mat t() const { return {data, cols, rows, cs, rs}; }
  T& operator()(int64_t r, int64_t c) const { return data[r * rs + c * cs]; }
  operator Mat<const T>() const { return {data, rows, cols, rs, cs}; }  // NOLINT
};

template <class T>
Mat<T> dense(T* data, int64_t rows, int64_t cols) {
  return {data, rows, cols, cols, 1};
}

// How a row-major BLAS addresses a matrix: 'N' with rows ld apart, or 'T' (the memory is
// column-major) with columns ld apart. Not ok: both strides > 1, or rows that overlap.
struct BlasView {
  bool ok;
  char trans;
  int64_t ld;
};

template <class T>
BlasView blas_view(const Mat<T>& m) {
  const int64_t row_len = std::max<int64_t>(1, m.cols), col_len = std::max<int64_t>(1, m.rows);
  if ((m.cs == 1 || m.cols == 1) && (m.rows == 1 || m.rs >= row_len)) {
    return {true, 'N', m.rows == 1 ? row_len : m.rs};
  }
  if ((m.rs == 1 || m.rows == 1) && (m.cols == 1 || m.cs >= col_len)) {
    return {true, 'T', m.cols == 1 ? col_len : m.cs};
  }
  return {false, 'N', 0};
}

// A dense row-major copy of m, converted to U.
template <class U, class T>
std::vector<U> packed(Mat<const T> m) {
  std::vector<U> v(static_cast<size_t>(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) v[r * m.cols + c] = cast_value<U>(m(r, c));
  return v;
}

template <class T, class U>
void unpack(Mat<T> m, const std::vector<U>& v) {
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) m(r, c) = cast_value<T>(v[r * m.cols + c]);
}

template <class T>
void scale(Mat<T> c, T beta) {
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t j = 0; j < c.cols; ++j) c(r, j) = beta == T(0) ? T(0) : beta * c(r, j);
}

template <class T>
using RowMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                          0, Eigen::OuterStride<>>;
template <class T>
using ColMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>,
                          0, Eigen::OuterStride<>>;

// Calls f with an Eigen map of m laid out as v says.
template <class T, class F>
void with_map(Mat<const T> m, BlasView v, const F& f) {
  if (v.trans == 'N') {
    f(RowMap<T>(m.data, m.rows, m.cols, Eigen::OuterStride<>(v.ld)));
  } else {
    f(ColMap<T>(m.data, m.rows, m.cols, Eigen::OuterStride<>(v.ld)));
  }
}

// c ('N' layout), a and b BLAS-addressable, K > 0.
template <class T>
bool blas_gemm(Mat<T> c, Mat<const T> a, Mat<const T> b, T alpha, T beta) {
  const BlasView vc = blas_view(c), va = blas_view(a), vb = blas_view(b);
  if constexpr (std::is_same_v<T, float>) {
    if (c.rows * c.cols * a.cols >= kSmallGemm) {
      return dnnl_sgemm(va.trans, vb.trans, c.rows, c.cols, a.cols, alpha, a.data, va.ld, b.data,
                        vb.ld, beta, c.data, vc.ld) == dnnl_success;
    }
  }
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
             Eigen::OuterStride<>>
      C(c.data, c.rows, c.cols, Eigen::OuterStride<>(vc.ld));
  with_map(a, va, [&](const auto& A) {
    with_map(b, vb, [&](const auto& B) {
      if (beta == T(0)) {
        C.noalias() = alpha * A * B;
      } else {
        if (beta != T(1)) C *= beta;
        C.noalias() += alpha * A * B;
      }
    });
  });
  return true;
}

// c = alpha * a @ b + beta * c for f32 and f64, any strides. False if the BLAS refused.
template <class T>
bool gemm_2d(Mat<T> c, Mat<const T> a, Mat<const T> b, T alpha, T beta) {
  if (c.rows == 0 || c.cols == 0) return true;
  if (a.cols == 0) {
    scale(c, beta);
    return true;
  }
  const BlasView vc = blas_view(c);
  if (vc.ok && vc.trans == 'T') return gemm_2d(c.t(), b.t(), a.t(), alpha, beta);  // c^T = b^T a^T
  if (!vc.ok) {
    std::vector<T> tmp =
        beta == T(0) ? std::vector<T>(c.rows * c.cols) : packed<T>(Mat<const T>(c));
    const bool ok = gemm_2d(dense(tmp.data(), c.rows, c.cols), a, b, alpha, beta);
    unpack(c, tmp);
    return ok;
  }
  std::vector<T> pa, pb;
  if (!blas_view(a).ok) {
    pa = packed<T>(a);
    a = dense<const T>(pa.data(), a.rows, a.cols);
  }
  if (!blas_view(b).ok) {
    pb = packed<T>(b);
    b = dense<const T>(pb.data(), b.rows, b.cols);
  }
  return blas_gemm(c, a, b, alpha, beta);
}

// bf16 on CPUs with AVX512-BF16 (or AMX): oneDNN's matmul primitive reads the operands in place,
// accumulates in f32 and rounds each output once, at about twice sgemm's speed (one Zen 4 core:
// 256x1024x1024 in 11 ms against 27, 4096x768x768 in 101 against 198). oneDNN caches the
// primitive per shape; making its descriptor costs a few microseconds per call. False (the f32
// path runs instead) elsewhere, where oneDNN would emulate bf16, and for layouts it would run
// with its reference code.
bool dnnl_bf16_gemm(Mat<BFloat16> c, Mat<const BFloat16> a, Mat<const BFloat16> b, float alpha,
                    float beta) {
  static const bool supported = (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) &
                                 dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  const BlasView vc = blas_view(c);
  if (!supported || a.cols == 0 || !vc.ok) return false;
  if (vc.trans == 'T') return dnnl_bf16_gemm(c.t(), b.t(), a.t(), alpha, beta);  // c^T = b^T a^T
  std::vector<BFloat16> pa, pb;
  if (!blas_view(a).ok) {
    pa = packed<BFloat16>(a);
    a = dense<const BFloat16>(pa.data(), a.rows, a.cols);
  }
  if (!blas_view(b).ok) {
    pb = packed<BFloat16>(b);
    b = dense<const BFloat16>(pb.data(), b.rows, b.cols);
  }
  using dnnl::memory;
  auto desc = [](const auto& m) {
    const BlasView v = blas_view(m);
    return memory::desc({m.rows, m.cols}, memory::data_type::bf16,
                        v.trans == 'N' ? memory::dims{v.ld, 1} : memory::dims{1, v.ld});
  };
  // Called from parallel loops over batches: a oneDNN error becomes `false`, never a throw.
  try {
    static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    thread_local dnnl::stream stream(engine);
    const memory::desc ad = desc(a), bd = desc(b), cd = desc(c);
    dnnl::primitive_attr attr;
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    if (beta != 0.0f) {
      dnnl::post_ops sum;
      sum.append_sum(beta);
      attr.set_post_ops(sum);
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, cd), attr, engine);
    if (std::string_view(pd.impl_info_str()).starts_with("ref")) return false;
    dnnl::matmul(pd).execute(stream,
                             {{DNNL_ARG_SRC, memory(ad, engine, const_cast<BFloat16*>(a.data))},
                              {DNNL_ARG_WEIGHTS, memory(bd, engine, const_cast<BFloat16*>(b.data))},
                              {DNNL_ARG_DST, memory(cd, engine, c.data)}});
    stream.wait();
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

// f16 and bf16: the product runs in f32 and each output is rounded once.
template <class T>
bool gemm_2d_reduced(Mat<T> c, Mat<const T> a, Mat<const T> b, float alpha, float beta) {
  if constexpr (std::is_same_v<T, BFloat16>) {
    if (dnnl_bf16_gemm(c, a, b, alpha, beta)) return true;
  }
  std::vector<float> fa = packed<float>(a), fb = packed<float>(b);
  std::vector<float> fc =
      beta == 0.0f ? std::vector<float>(c.rows * c.cols) : packed<float>(Mat<const T>(c));
  const bool ok =
      gemm_2d(dense(fc.data(), c.rows, c.cols), dense<const float>(fa.data(), a.rows, a.cols),
              dense<const float>(fb.data(), b.rows, b.cols), alpha, beta);
  unpack(c, fc);
  return ok;
}

// Integers and bool: exact int64 accumulation (wrapping into T as PyTorch's integer GEMM does),
// row by row with the k loop outside the n loop so that rows of b are read in order.
template <class T>
void gemm_loops(Mat<T> c, Mat<const T> a, Mat<const T> b, int64_t alpha, int64_t beta) {
  const int64_t n = c.cols, k = a.cols;
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * k));
  parallel_for(0, c.rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> acc(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      std::fill(acc.begin(), acc.end(), 0);
      for (int64_t p = 0; p < k; ++p) {
        const int64_t av = static_cast<int64_t>(a(r, p));
        for (int64_t j = 0; j < n; ++j) acc[j] += av * static_cast<int64_t>(b(p, j));
      }
      for (int64_t j = 0; j < n; ++j) {
        const int64_t prev = beta == 0 ? 0 : beta * static_cast<int64_t>(c(r, j));
        c(r, j) = cast_value<T>(alpha * acc[j] + prev);
      }
    }
  });
}

template <class T>
bool gemm_2d_any(Mat<T> c, Mat<const T> a, Mat<const T> b, const Scalar& alpha,
                 const Scalar& beta) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return gemm_2d(c, a, b, alpha.to<T>(), beta.to<T>());
  } else if constexpr (is_floating_v<T>) {
    return gemm_2d_reduced(c, a, b, alpha.to<float>(), beta.to<float>());
  } else {
    gemm_loops(c, a, b, alpha.to<int64_t>(), beta.to<int64_t>());
    return true;
  }
}

// Offsets (in elements, from each tensor's first element) of every matrix of the batch: all dims
// but the last two, in row-major order.
std::vector<int64_t> batch_offsets(const Tensor& t, int64_t batches) {
  const int64_t nb = t.dim() - 2;
  std::vector<int64_t> offsets(static_cast<size_t>(batches));
  std::vector<int64_t> idx(static_cast<size_t>(nb), 0);
  int64_t off = 0;
  for (int64_t i = 0; i < batches; ++i) {
    offsets[i] = off;
    for (int64_t d = nb - 1; d >= 0; --d) {
      off += t.stride(d);
      if (++idx[d] < t.size(d)) break;
      off -= idx[d] * t.stride(d);
      idx[d] = 0;
    }
  }
  return offsets;
}

// Whether the batch and row dims of t ([..., R, C]) form one run of rows of equal stride, which
// is then stored in *row_stride.
bool rows_collapse(const Tensor& t, int64_t* row_stride) {
  bool first = true;
  int64_t next = 0;
  for (int64_t d = t.dim() - 2; d >= 0; --d) {
    if (t.size(d) == 1) continue;
    if (first) {
      *row_stride = t.stride(d);
      first = false;
    } else if (t.stride(d) != next) {
      return false;
    }
    next = t.stride(d) * t.size(d);
  }
  return !first;
}

bool batch_is_broadcast(const Tensor& t) {
  for (int64_t d = 0; d < t.dim() - 2; ++d)
    if (t.size(d) != 1 && t.stride(d) != 0) return false;
  return true;
}

template <class T>
void gemm_typed(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha,
                const Scalar& beta) {
  if (out.numel() == 0) return;
  const int64_t m = out.size(-2), n = out.size(-1), k = a.size(-1);
  T* pc = static_cast<T*>(out.raw_data());
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  const int64_t batches = out.numel() / (m * n);
  const Mat<const T> b0{pb, k, n, b.stride(-2), b.stride(-1)};
  // One GEMM when there is one matrix, or when b is shared by the batch (a weight, a broadcast
  // operand) and the rows of a and out run on across it: one tall GEMM instead of many short ones.
  int64_t a_rs = a.stride(-2), c_rs = out.stride(-2);
  if (batches == 1 ||
      (batch_is_broadcast(b) && rows_collapse(a, &a_rs) && rows_collapse(out, &c_rs))) {
    const bool ok = gemm_2d_any<T>({pc, batches * m, n, c_rs, out.stride(-1)},
                                   {pa, batches * m, k, a_rs, a.stride(-1)}, b0, alpha, beta);
    ANVIL_INTERNAL_ASSERT(ok);
    return;
  }

  const std::vector<int64_t> oc = batch_offsets(out, batches), oa = batch_offsets(a, batches),
                             ob = batch_offsets(b, batches);
  std::atomic<bool> ok{true};
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const bool done = gemm_2d_any<T>({pc + oc[i], m, n, out.stride(-2), out.stride(-1)},
                                       {pa + oa[i], m, k, a.stride(-2), a.stride(-1)},
                                       {pb + ob[i], k, n, b.stride(-2), b.stride(-1)}, alpha, beta);
      if (!done) ok = false;
    }
  };
  const int64_t work = m * n * std::max<int64_t>(1, k);
  if (work < kParallelBatchWork) {
    parallel_for(0, batches, std::max<int64_t>(1, kParallelBatchWork / work), run);
  } else {
    run(0, batches);
  }
  ANVIL_INTERNAL_ASSERT(ok);
}

void gemm_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha,
                 const Scalar& beta) {
  visit_dtype(out.dtype(), [&]<class T>() { gemm_typed<T>(out, a, b, alpha, beta); });
}

}  // namespace

ANVIL_REGISTER_KERNEL(gemm, cpu, kAllTypes, gemm_kernel);

}  // namespace anvil::cpu
