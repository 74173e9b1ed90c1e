//! Raw interleaved PCM bytes to f32 samples, for a byte stream cut anywhere (standard input, a pipe, a socket):
//! whole frames are converted, the bytes of a partial frame wait for the rest.

/// Raw PCM sample encodings (standard input, and the samples of a WAV file's data chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcmFormat {
    /// Signed 16-bit little-endian.
    S16le,
    /// Signed 24-bit little-endian, packed in 3 bytes.
    S24le,
    /// Signed 32-bit little-endian; also fewer valid bits at the top of a 4-byte container (24-in-32, 16-in-32), as
    /// WAVE_FORMAT_EXTENSIBLE stores them, the padding bits being zero.
    S32le,
    /// 32-bit float little-endian.
    F32le,
}

impl PcmFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            PcmFormat::S16le => 2,
            PcmFormat::S24le => 3,
            PcmFormat::S32le | PcmFormat::F32le => 4,
        }
    }

    fn sample(self, b: &[u8]) -> f32 {
        match self {
            PcmFormat::S16le => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0,
            // The 3 bytes at the top of an i32: the same full scale as 32-bit.
            PcmFormat::S24le => i32::from_le_bytes([0, b[0], b[1], b[2]]) as f32 / 2_147_483_648.0,
            PcmFormat::S32le => {
                i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0
            }
            PcmFormat::F32le => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        }
    }
}

/// Converts a PCM byte stream, however it is cut, into interleaved f32 samples of whole frames.
#[derive(Debug)]
pub struct PcmDecoder {
    format: PcmFormat,
    frame_bytes: usize,
    pending: Vec<u8>, // start of a frame (fewer than frame_bytes bytes)
    samples: Vec<f32>,
}

impl PcmDecoder {
    /// A decoder for `channels` interleaved channels (at least 1) of `format`.
    pub fn new(format: PcmFormat, channels: usize) -> PcmDecoder {
        let frame_bytes = format.bytes() * channels.max(1);
        PcmDecoder {
            format,
            frame_bytes,
            pending: Vec::with_capacity(frame_bytes),
            samples: Vec::new(),
        }
    }

    /// Convert `bytes`; the samples of every frame completed so far go to `on_samples` (interleaved; not called
    /// when no frame completed).
    pub fn push(&mut self, mut bytes: &[u8], mut on_samples: impl FnMut(&[f32])) {
        self.samples.clear();
        if !self.pending.is_empty() {
            let take = (self.frame_bytes - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == self.frame_bytes {
                let format = self.format;
                self.samples.extend(
                    self.pending
                        .chunks_exact(format.bytes())
                        .map(|b| format.sample(b)),
                );
                self.pending.clear();
            }
        }
        let whole = bytes.len() / self.frame_bytes * self.frame_bytes;
        let format = self.format;
        self.samples.extend(
            bytes[..whole]
                .chunks_exact(format.bytes())
                .map(|b| format.sample(b)),
        );
        self.pending.extend_from_slice(&bytes[whole..]);
        if !self.samples.is_empty() {
            on_samples(&self.samples);
        }
    }

    /// Bytes of an unfinished frame held back (dropped if the stream ends now).
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cut_anywhere_come_out_whole() {
        let bytes: Vec<u8> = [1000i16, -2000, 3000, -4000, 5000]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut d = PcmDecoder::new(PcmFormat::S16le, 2);
        let mut out = Vec::new();
        for piece in [&bytes[..1], &bytes[1..5], &bytes[5..6], &bytes[6..]] {
            d.push(piece, |s| out.extend_from_slice(s));
        }
        let want: Vec<f32> = [1000i16, -2000, 3000, -4000]
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        assert_eq!(out, want);
        assert_eq!(d.pending_bytes(), 2); // half a stereo frame
    }

    #[test]
    fn integer_encodings_share_one_full_scale() {
        let mut out = Vec::new();
        let half = [
            (PcmFormat::S16le, vec![0x00, 0x40]),
            (PcmFormat::S24le, vec![0x00, 0x00, 0x40]),
            (PcmFormat::S32le, vec![0x00, 0x00, 0x00, 0x40]),
            (PcmFormat::F32le, 0.5f32.to_le_bytes().to_vec()),
        ];
        for (format, bytes) in half {
            PcmDecoder::new(format, 1).push(&bytes, |s| out.extend_from_slice(s));
        }
        assert_eq!(out, [0.5; 4]);
    }
}
