"""Whisper tiny.en as two small torch modules shaped for streaming export.

`Encoder`: MFCC `[1, 80, frames]` -> cross-attention K and V of every decoder layer `[layers, 1, frames/2, d]`.
`Decoder`: tokens `[batch, n]` + self-attention cache `[layers, batch, n_past, d]` + cross K/V of one audio
`[layers, 1, frames/2, d]` -> logits `[batch, n, vocab]` and the grown cache (a beam search feeds its hypotheses as
one batch). Architecture as in openai/whisper `whisper/model.py` (pre-norm, exact GELU, q and k each scaled by
head_dim^-0.25, no bias on key projections).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Dims:
    """Model dimensions (tiny.en)."""

    def __init__(self, d_model=384, heads=6, layers=4, ffn=1536, vocab=51864, mels=80, max_frames=3000, max_positions=448):
        self.d_model, self.heads, self.layers, self.ffn = d_model, heads, layers, ffn
        self.vocab, self.mels, self.max_frames, self.max_positions = vocab, mels, max_frames, max_positions


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None,
            batched: bool = False) -> torch.Tensor:
    """Multi-head attention on [b, n, d] queries and [b or 1, m, d] keys and values (a batch of 1 is shared by every
    query row: the decoder's hypotheses attend to one audio); returns [b, n, d]. Unbatched, b is the constant 1 (the
    encoder's graph)."""
    n, d = q.shape[1], q.shape[2]
    b, kb = (q.shape[0], k.shape[0]) if batched else (1, 1)
    head_dim = d // heads
    scale = head_dim**-0.25
    q = (q * scale).view(b, n, heads, head_dim).permute(0, 2, 1, 3)
    k = (k * scale).view(kb, -1, heads, head_dim).permute(0, 2, 3, 1)
    v = v.view(kb, -1, heads, head_dim).permute(0, 2, 1, 3)
    scores = q @ k
    if mask is not None:
        scores = scores + mask
    weights = torch.softmax(scores, dim=-1)
    return (weights @ v).permute(0, 2, 1, 3).reshape(b, n, d)


class Encoder(nn.Module):
    """Audio encoder plus the decoder's cross-attention K/V projections (computed once per segment)."""

    def __init__(self, dims: Dims, weights: dict[str, np.ndarray], input_transform: np.ndarray | None = None):
        super().__init__()
        self.dims = dims
        w = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
        conv1 = w["encoder.conv1.weight"]
        if input_transform is not None:
            # Fold a per-frame linear input transform into conv1: W'[o,j,k] = sum_i W[o,i,k] * T[j,i].
            conv1 = torch.einsum("oik,ji->ojk", conv1, torch.from_numpy(input_transform.astype(np.float32)))
        self.conv1_w, self.conv1_b = nn.Parameter(conv1), nn.Parameter(w["encoder.conv1.bias"])
        self.conv2_w, self.conv2_b = nn.Parameter(w["encoder.conv2.weight"]), nn.Parameter(w["encoder.conv2.bias"])
        self.register_buffer("positions", w["encoder.positions"])
        self.p = nn.ParameterDict({k.replace(".", "_"): nn.Parameter(v) for k, v in w.items() if k.startswith(("encoder.blocks", "encoder.ln_post", "decoder.blocks")) and (k.startswith("encoder") or ".cross.k" in k or ".cross.v" in k)})

    def _w(self, name: str) -> torch.Tensor:
        return self.p[name.replace(".", "_")]

    def _lin(self, x, name):
        return F.linear(x, self._w(f"{name}.weight"), self._w(f"{name}.bias"))

    def _ln(self, x, name):
        return F.layer_norm(x, (self.dims.d_model,), self._w(f"{name}.weight"), self._w(f"{name}.bias"), eps=1e-5)

    def forward(self, features: torch.Tensor):
        x = F.gelu(F.conv1d(features, self.conv1_w, self.conv1_b, padding=1))
        x = F.gelu(F.conv1d(x, self.conv2_w, self.conv2_b, stride=2, padding=1))
        x = x.permute(0, 2, 1)
        x = x + self.positions[: x.shape[1]]
        for i in range(self.dims.layers):
            b = f"encoder.blocks.{i}"
            h = self._ln(x, f"{b}.attn_ln")
            x = x + self._lin(_attend(self._lin(h, f"{b}.attn.q"), self._lin(h, f"{b}.attn.k"), self._lin(h, f"{b}.attn.v"), self.dims.heads, None), f"{b}.attn.out")
            h = self._ln(x, f"{b}.mlp_ln")
            x = x + self._lin(F.gelu(self._lin(h, f"{b}.fc1")), f"{b}.fc2")
        x = self._ln(x, "encoder.ln_post")
        cross_k = torch.stack([self._lin(x, f"decoder.blocks.{i}.cross.k") for i in range(self.dims.layers)])
        cross_v = torch.stack([self._lin(x, f"decoder.blocks.{i}.cross.v") for i in range(self.dims.layers)])
        return cross_k, cross_v


class Decoder(nn.Module):
    """Text decoder with an explicit self-attention KV cache; the output projection is the token embedding."""

    def __init__(self, dims: Dims, weights: dict[str, np.ndarray]):
        super().__init__()
        self.dims = dims
        w = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
        self.embedding = nn.Parameter(w["decoder.embedding"])
        # The projection reads the same table, transposed once at export time so the graph holds one [d, vocab] MatMul
        # weight; the quantization step later points the token lookup at that table too (stored once).
        self.projection = nn.Parameter(w["decoder.embedding"].t().contiguous())
        self.register_buffer("positions", w["decoder.positions"])
        self.p = nn.ParameterDict({k.replace(".", "_"): nn.Parameter(v) for k, v in w.items() if k.startswith(("decoder.blocks", "decoder.ln")) and ".cross.k" not in k and ".cross.v" not in k})

    def _w(self, name: str) -> torch.Tensor:
        return self.p[name.replace(".", "_")]

    def _lin(self, x, name):
        return F.linear(x, self._w(f"{name}.weight"), self._w(f"{name}.bias"))

    def _ln(self, x, name):
        return F.layer_norm(x, (self.dims.d_model,), self._w(f"{name}.weight"), self._w(f"{name}.bias"), eps=1e-5)

    def forward(self, tokens, self_k, self_v, cross_k, cross_v):
        n = tokens.shape[1]
        n_past = self_k.shape[2]
        x = F.embedding(tokens, self.embedding) + self.positions[n_past : n_past + n]
        query_pos = torch.arange(n) + n_past
        key_pos = torch.arange(n_past + n)
        mask = torch.where(key_pos[None, :] > query_pos[:, None], float("-inf"), 0.0)
        new_k, new_v = [], []
        for i in range(self.dims.layers):
            b = f"decoder.blocks.{i}"
            h = self._ln(x, f"{b}.attn_ln")
            k = torch.cat([self_k[i], self._lin(h, f"{b}.attn.k")], dim=1)
            v = torch.cat([self_v[i], self._lin(h, f"{b}.attn.v")], dim=1)
            new_k.append(k)
            new_v.append(v)
            x = x + self._lin(_attend(self._lin(h, f"{b}.attn.q"), k, v, self.dims.heads, mask, batched=True), f"{b}.attn.out")
            h = self._ln(x, f"{b}.cross_ln")
            x = x + self._lin(_attend(self._lin(h, f"{b}.cross.q"), cross_k[i], cross_v[i], self.dims.heads, None, batched=True), f"{b}.cross.out")
            h = self._ln(x, f"{b}.mlp_ln")
            x = x + self._lin(F.gelu(self._lin(h, f"{b}.fc1")), f"{b}.fc2")
        x = self._ln(x, "decoder.ln")
        logits = x @ self.projection
        return logits, torch.stack(new_k), torch.stack(new_v)
