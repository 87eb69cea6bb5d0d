#!/usr/bin/env python3
"""Golden values for tests/nn/test_attention.cpp and tests/nn/test_llama.cpp, computed by PyTorch
in float64 with seeded weights:
  attention_mha.txt    torch.nn.MultiheadAttention in three configurations (packed and separate
                       projections, masks of each kind, bias_kv, zero_attn, batch_first,
                       unbatched): inputs, parameters (PyTorch's names), output, weights, and
                       the gradients of sum(out * r_out) + sum(weights * r_w).
  attention_llama.txt  a Llama decoder (Hugging Face LlamaForCausalLM's structure and names,
                       written in plain torch: RMSNorm, RoPE in the rotate_half form, grouped
                       query heads, SwiGLU), its logits, shifted next-token loss and the
                       gradients of a few parameters.
Run from the repository root with /usr/bin/python3 (PyTorch is a tool for this script only):
    /usr/bin/python3 tests/golden/make_attention_golden.py
Format (tests/common/golden.h): per tensor "<name> <ndim> <size...>" then its values, row-major.
"""
import math
import pathlib

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = pathlib.Path(__file__).resolve().parent


def write(path, tensors):
    with open(path, "w") as f:
        for name, t in tensors.items():
            t = t.detach().double().contiguous()
            f.write(f"{name} {t.dim()} {' '.join(str(s) for s in t.shape)}\n")
            f.write(" ".join(f"{v:.17g}" for v in t.reshape(-1).tolist()) + "\n")


# ---- MultiheadAttention -------------------------------------------------------------------------

def mha_case(tag, values, module_args, inputs, forward_args):
    """Runs one configuration; bool masks are written as 0/1."""
    m = torch.nn.MultiheadAttention(*module_args["pos"], **module_args["kw"])
    with torch.no_grad():  # weights away from the default init (biases nonzero too)
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    q, k, v = (t.clone().requires_grad_() for t in inputs)
    out, w = m(q, k, v, **forward_args)
    r_out = torch.randn_like(out)
    loss = (out * r_out).sum()
    if w is not None:
        r_w = torch.randn_like(w)
        loss = loss + (w * r_w).sum()
    loss.backward()
    values[f"{tag}.query"], values[f"{tag}.key"], values[f"{tag}.value"] = q, k, v
    for name in ("attn_mask", "key_padding_mask"):
        if forward_args.get(name) is not None:
            values[f"{tag}.{name}"] = forward_args[name].double()
    for name, p in m.named_parameters():
        values[f"{tag}.{name}"] = p
    values[f"{tag}.r_out"], values[f"{tag}.out"] = r_out, out
    if w is not None:
        values[f"{tag}.r_w"], values[f"{tag}.weights"] = r_w, w
    for name, p in m.named_parameters():
        values[f"{tag}.grad.{name}"] = p.grad
    values[f"{tag}.grad.query"], values[f"{tag}.grad.key"], values[f"{tag}.grad.value"] = (
        q.grad, k.grad, v.grad)


def mha():
    torch.manual_seed(0)
    values = {}
    E, H, L, S, N = 8, 2, 3, 4, 2
    # Packed projections, [L, N, E], float attn_mask and bool key_padding_mask, averaged weights.
    kpm = torch.zeros(N, S, dtype=torch.bool)
    kpm[1, 3] = True
    mha_case("packed", values, dict(pos=(E, H), kw={}),
             (torch.randn(L, N, E), torch.randn(S, N, E), torch.randn(S, N, E)),
             dict(attn_mask=torch.randn(L, S), key_padding_mask=kpm))
    # Separate projections (kdim, vdim), bias_kv, zero_attn, batch_first, 3-D bool attn_mask,
    # no weights (the scaled_dot_product_attention path).
    am = torch.rand(N * H, L, S) < 0.3
    am[:, :, 0] = False
    mha_case("separate", values,
             dict(pos=(E, H), kw=dict(add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=6,
                                      batch_first=True)),
             (torch.randn(N, L, E), torch.randn(N, S, 5), torch.randn(N, S, 6)),
             dict(attn_mask=am, need_weights=False))
    # Unbatched, no biases, a causal bool mask (L = S), weights per head.
    causal = torch.ones(L, L, dtype=torch.bool).triu(1)
    mha_case("unbatched", values, dict(pos=(E, 4), kw=dict(bias=False)),
             (torch.randn(L, E), torch.randn(L, E), torch.randn(L, E)),
             dict(attn_mask=causal, average_attn_weights=False))
    write(OUT / "attention_mha.txt", values)


# ---- Llama --------------------------------------------------------------------------------------

CFG = dict(vocab_size=32, hidden_size=16, intermediate_size=24, num_hidden_layers=2,
           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=16,
           rms_norm_eps=1e-6, rope_theta=10000.0)


def llama_params():
    c = CFG
    d, hd = c["hidden_size"], c["hidden_size"] // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd

    def w(*shape):
        return torch.randn(*shape) * 0.3

    p = {"model.embed_tokens.weight": torch.randn(c["vocab_size"], d)}
    for i in range(c["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        p[pre + "self_attn.q_proj.weight"] = w(d, d)
        p[pre + "self_attn.k_proj.weight"] = w(kv, d)
        p[pre + "self_attn.v_proj.weight"] = w(kv, d)
        p[pre + "self_attn.o_proj.weight"] = w(d, d)
        p[pre + "mlp.gate_proj.weight"] = w(c["intermediate_size"], d)
        p[pre + "mlp.up_proj.weight"] = w(c["intermediate_size"], d)
        p[pre + "mlp.down_proj.weight"] = w(d, c["intermediate_size"])
        p[pre + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(d)
        p[pre + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(d)
    p["model.norm.weight"] = 1 + 0.1 * torch.randn(d)
    p["lm_head.weight"] = w(c["vocab_size"], d)
    return {k: v.requires_grad_() for k, v in p.items()}


def rms_norm(x, weight):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CFG["rms_norm_eps"]))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def llama_forward(p, ids):
    c = CFG
    B, T = ids.shape
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c["hidden_size"] // H
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2).double() / hd))
    freqs = torch.outer(torch.arange(T).double(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    causal = torch.full((T, T), float("-inf")).triu(1)
    h = p["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        x = rms_norm(h, p[pre + "input_layernorm.weight"])
        q = (x @ p[pre + "self_attn.q_proj.weight"].T).view(B, T, H, hd).transpose(1, 2)
        k = (x @ p[pre + "self_attn.k_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
        v = (x @ p[pre + "self_attn.v_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd) + causal, -1) @ v
        att = att.transpose(1, 2).reshape(B, T, H * hd)
        h = h + att @ p[pre + "self_attn.o_proj.weight"].T
        x = rms_norm(h, p[pre + "post_attention_layernorm.weight"])
        mlp = F.silu(x @ p[pre + "mlp.gate_proj.weight"].T) * (x @ p[pre + "mlp.up_proj.weight"].T)
        h = h + mlp @ p[pre + "mlp.down_proj.weight"].T
    h = rms_norm(h, p["model.norm.weight"])
    return h @ p["lm_head.weight"].T


def llama():
    torch.manual_seed(1)
    p = llama_params()
    ids = torch.randint(0, CFG["vocab_size"], (2, 6))
    logits = llama_forward(p, ids)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, CFG["vocab_size"]), ids[:, 1:].reshape(-1))
    loss.backward()
    values = {"ids": ids.double()}
    values.update(p)
    values["logits"], values["loss"] = logits, loss
    for name in ("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                 "model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.down_proj.weight",
                 "model.layers.0.input_layernorm.weight", "model.norm.weight", "lm_head.weight"):
        values["grad." + name] = p[name].grad
    write(OUT / "attention_llama.txt", values)


if __name__ == "__main__":
    mha()
    llama()
