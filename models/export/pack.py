"""Drive a model pack with Python ONNX Runtime: the reference decoder the Rust engine is checked against."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort

import end_of_window
import frontend


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte <-> printable-character table used by byte-level BPE vocabularies."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class Pack:
    """An encoder/decoder pair with its manifest; greedy decoding as the Rust engine does it."""

    def __init__(self, folder: Path, encoder: Path | None = None, decoder: Path | None = None, threads: int = 2):
        self.folder = folder
        self.manifest = tomllib.loads((folder / "model.toml").read_text())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        enc = encoder or folder / self.manifest["encoder"]["file"]
        dec = decoder or folder / self.manifest["decoder"]["file"]
        self.encoder = ort.InferenceSession(str(enc), opts, providers=["CPUExecutionProvider"])
        self.decoder = ort.InferenceSession(str(dec), opts, providers=["CPUExecutionProvider"])
        vocab = (folder / self.manifest["tokenizer"]["file"]).read_text(encoding="utf-8").split("\n")
        self.vocab = vocab
        self.byte_of = {c: b for b, c in bytes_to_unicode().items()}
        # Made with this Pack's encoder (which may not be the pack's own file), as end_of_window.py makes the pack's.
        eow = self.manifest.get("end_of_window")
        self.end_of_window = None if eow is None else end_of_window.block(self.encoder, eow["positions"])

    def encode(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """features [80, frames] (already padded) -> cross K, V; a window shorter than the encoder's longest gets the
        pack's end-of-window block after its own positions, as the Rust engine does (end_of_window.py)."""
        k, v = self.encoder.run(None, {"features": features[None].astype(np.float32)})
        if self.end_of_window is not None and features.shape[1] < self.manifest["encoder"]["max_frames"]:
            k = np.concatenate([k, self.end_of_window[0]], axis=2)
            v = np.concatenate([v, self.end_of_window[1]], axis=2)
        return k, v

    def pad(self, features: np.ndarray, bucket_frames: int | None = None) -> np.ndarray:
        enc = self.manifest["encoder"]
        return frontend.pad_frames(features, bucket_frames or enc["bucket_frames"], enc["max_frames"])

    def greedy(
        self, cross_k: np.ndarray, cross_v: np.ndarray, max_tokens: int | None = None, prompt: list[int] | None = None,
        trace: list | None = None, rows: list | None = None,
    ) -> tuple[list[int], float]:
        """Greedy tokens (text ids only, without prompt or end) and the no-speech probability; `prompt` replaces the
        manifest's (e.g. with previous text before it). `trace`, when given, gets (token, log-probability) of every
        choice after suppression, end-of-text included when reached; `rows` the log-probabilities over the whole
        vocabulary at each of those steps."""
        tok, dec = self.manifest["tokens"], self.manifest["decoder"]
        suppress = np.array(tok["suppress"], dtype=np.int64)
        layers, d = dec["layers"], dec["d_model"]
        cache_k = np.zeros((layers, 1, 0, d), np.float32)
        cache_v = np.zeros((layers, 1, 0, d), np.float32)
        tokens = list(tok["prompt"]) if prompt is None else prompt
        feed = np.array([tokens], dtype=np.int64)
        out: list[int] = []
        no_speech = 0.0
        limit = dec["max_positions"] - len(tokens) if max_tokens is None else max_tokens
        for step in range(limit):
            logits, cache_k, cache_v = self.decoder.run(
                None, {"tokens": feed, "self_k": cache_k, "self_v": cache_v, "cross_k": cross_k, "cross_v": cross_v}
            )
            if step == 0:
                # The no-speech token is predicted right after <|startoftranscript|>.
                first = logits[0, tokens.index(tok["prompt"][0])].astype(np.float64)
                p = np.exp(first - first.max())
                no_speech = float(p[tok["no_speech"]] / p.sum())
            last = logits[0, -1].copy()
            last[suppress] = -np.inf
            last[tok["timestamp_begin"] :] = -np.inf
            if step == 0:
                last[np.array(tok["suppress_at_begin"], dtype=np.int64)] = -np.inf
            nxt = int(np.argmax(last))
            if trace is not None or rows is not None:
                shifted = last.astype(np.float64) - last[nxt]
                lp = float(-np.log(np.exp(shifted).sum()))
                if trace is not None:
                    trace.append((nxt, lp))
                if rows is not None:
                    rows.append(shifted + lp)
            if nxt == tok["end_of_text"]:
                break
            out.append(nxt)
            feed = np.array([[nxt]], dtype=np.int64)
        return out, no_speech

    def detokenize(self, ids: list[int]) -> str:
        limit = self.manifest["tokens"]["first_text_id_excluded"]
        raw = bytes(self.byte_of[c] for i in ids if i < limit for c in self.vocab[i])
        return raw.decode("utf-8", errors="replace")

    def transcribe(self, audio: np.ndarray, bucket_frames: int | None = None, causal: bool = True) -> tuple[list[int], float]:
        features = self.pad(frontend.mfcc(audio, causal=causal), bucket_frames)
        return self.greedy(*self.encode(features))
