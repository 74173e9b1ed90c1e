"""Reference front-end: 16 kHz mono float audio -> normalized log-mel -> MFCC (orthonormal DCT-II of each frame).

This is the definition the Rust `MfccExtractor` must reproduce; every parameter here is written to the manifest.
Log-mel follows openai/whisper `whisper/audio.py` (log_mel_spectrogram):
https://github.com/openai/whisper/blob/8d6e0e5e1af80e81f3ef1d0122a58473afdabdcd/whisper/audio.py
"""

from __future__ import annotations

import numpy as np
import scipy.fft

SAMPLE_RATE_HZ = 16000
N_FFT = 400
HOP_SAMPLES = 160
N_MELS = 80
MEL_FMIN_HZ = 0.0
MEL_FMAX_HZ = 8000.0
LOG_FLOOR = 1e-10  # log10(max(mel, LOG_FLOOR))
CLAMP_RANGE_LOG10 = 8.0  # values below (reference max - 8) are raised to it
NORM_OFFSET = 4.0  # normalized = (x + 4) / 4
NORM_SCALE = 4.0

# Causal clamp: the reference max is a peak tracker instead of the max over the whole 30 s window (which needs future
# frames). peak[t] = max(frame_max[t], peak[t-1] - CAUSAL_RELEASE_PER_FRAME), starting at CAUSAL_PEAK_FLOOR_LOG10, and
# never below that floor; clamp floor[t] = peak[t] - 8. The floor (log10 mel power) is the typical whole-clip peak of
# speech at -3 dBFS on the corpus (0.7 to 1.6): leading silence is then clamped as the whole-window rule clamps it for
# normal speech. Chosen by a sweep on the corpus (REPORT.md): floors of -1 and 0 made more 5 s-bucket runaways.
CAUSAL_PEAK_FLOOR_LOG10 = 1.0
CAUSAL_RELEASE_PER_FRAME = 0.0005  # log10 units per 10 ms frame: 0.5 dB per second


def hz_to_mel_slaney(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, f / f_sp)


def mel_to_hz_slaney(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters() -> np.ndarray:
    """Slaney-scale triangular filters with Slaney area normalization, [N_MELS, N_FFT/2 + 1] (librosa's definition)."""
    fft_freqs = np.linspace(0, SAMPLE_RATE_HZ / 2, 1 + N_FFT // 2)
    mel_pts = mel_to_hz_slaney(np.linspace(hz_to_mel_slaney(MEL_FMIN_HZ), hz_to_mel_slaney(MEL_FMAX_HZ), N_MELS + 2))
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_pts[2:] - mel_pts[:-2]))[:, None]
    return weights


def dct_matrix() -> np.ndarray:
    """Orthonormal DCT-II, [N_MELS, N_MELS]: mfcc = C @ logmel (same as scipy.fft.dct(norm='ortho'))."""
    return scipy.fft.dct(np.eye(N_MELS), type=2, norm="ortho", axis=0)


def log_mel_power(audio: np.ndarray) -> np.ndarray:
    """log10 mel power before clamping, [N_MELS, len(audio) // HOP_SAMPLES]."""
    audio = np.asarray(audio, dtype=np.float64)
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    n_frames = len(audio) // HOP_SAMPLES
    idx = np.arange(N_FFT)[None, :] + HOP_SAMPLES * np.arange(n_frames)[:, None]
    spectrum = np.fft.rfft(padded[idx] * window, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    mel = mel_filters() @ power.T
    return np.log10(np.maximum(mel, LOG_FLOOR))


def causal_reference(frame_max: np.ndarray) -> np.ndarray:
    """Per-frame clamp reference from the causal peak tracker (see CAUSAL_* above)."""
    ref = np.empty_like(frame_max)
    peak = CAUSAL_PEAK_FLOOR_LOG10
    for t, m in enumerate(frame_max):
        peak = max(m, peak - CAUSAL_RELEASE_PER_FRAME, CAUSAL_PEAK_FLOOR_LOG10)
        ref[t] = peak
    return ref


def normalized_log_mel(audio: np.ndarray, causal: bool) -> np.ndarray:
    """Whisper's normalized log-mel, clamped against the whole-window max (causal=False) or the peak tracker."""
    log_spec = log_mel_power(audio)
    if log_spec.shape[1] == 0:
        return log_spec
    if causal:
        floor = causal_reference(log_spec.max(axis=0)) - CLAMP_RANGE_LOG10
        log_spec = np.maximum(log_spec, floor[None, :])
    else:
        log_spec = np.maximum(log_spec, log_spec.max() - CLAMP_RANGE_LOG10)
    return (log_spec + NORM_OFFSET) / NORM_SCALE


def mfcc(audio: np.ndarray, causal: bool = True) -> np.ndarray:
    """MFCC frames [N_MELS, frames] as float32: the encoder's input."""
    return (dct_matrix() @ normalized_log_mel(audio, causal)).astype(np.float32)


def pad_frames(features: np.ndarray, bucket_frames: int, max_frames: int) -> np.ndarray:
    """Zero-pad features [80, n] up to the next multiple of bucket_frames (at most max_frames)."""
    n = features.shape[1]
    target = min(max_frames, max(bucket_frames, -(-n // bucket_frames) * bucket_frames))
    out = np.zeros((features.shape[0], target), dtype=np.float32)
    out[:, : min(n, target)] = features[:, :target]
    return out
