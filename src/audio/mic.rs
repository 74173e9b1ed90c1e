//! Microphone capture through cpal (feature `mic`). The data callback only runs [`CaptureSide`]: downmix, resample,
//! MFCC, ring push; no allocation, lock, print or panic. Device errors go to the caller through a channel.

use std::sync::mpsc::{channel, Receiver};
use std::time::Instant;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::audio::CaptureSide;
use crate::error::{Error, Result};

/// An input device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDeviceInfo {
    /// Name to pass to `--device`.
    pub name: String,
    /// True for the host's default input.
    pub is_default: bool,
    /// Default configuration, e.g. "2 ch, 48000 Hz, f32".
    pub default_config: Option<String>,
}

fn device_name(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_string())
        .unwrap_or_else(|_| "<unnamed>".into())
}

fn device_error(reason: String) -> Error {
    Error::Device(reason)
}

/// The input devices of the default host.
pub fn input_devices() -> Result<Vec<InputDeviceInfo>> {
    let host = cpal::default_host();
    let default = host.default_input_device().map(|d| device_name(&d));
    let devices = host
        .input_devices()
        .map_err(|e| device_error(format!("cannot list input devices: {e}")))?;
    Ok(devices
        .map(|d| {
            let name = device_name(&d);
            let default_config = d.default_input_config().ok().map(|c| {
                format!(
                    "{} ch, {} Hz, {}",
                    c.channels(),
                    c.sample_rate(),
                    c.sample_format()
                )
            });
            InputDeviceInfo {
                is_default: default.as_deref() == Some(name.as_str()),
                name,
                default_config,
            }
        })
        .collect())
}

/// An opened (not yet started) input device and the format it will deliver.
pub struct Microphone {
    device: cpal::Device,
    config: cpal::SupportedStreamConfig,
    buffer: cpal::BufferSize,
}

impl std::fmt::Debug for Microphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microphone")
            .field("name", &device_name(&self.device))
            .finish()
    }
}

/// A running capture; dropping it stops the device, which ends the capture side's input.
pub struct LiveCapture {
    stream: cpal::Stream,
    errors: Receiver<String>,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture").finish()
    }
}

/// Ends the capture side's input when the stream's callback is dropped (the stream stopped or the device went away).
struct FinishOnDrop {
    capture: CaptureSide,
    epoch: Instant,
}

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.capture
            .finish(u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
}

impl Microphone {
    /// The default input device, or the first whose name contains `name`, at `sample_rate_hz` (0: the device's
    /// default) with callbacks every `period_ms` (0: the host's default).
    pub fn open(name: Option<&str>, sample_rate_hz: u32, period_ms: u32) -> Result<Microphone> {
        let host = cpal::default_host();
        let device = match name {
            None => host.default_input_device().ok_or_else(|| {
                device_error("no default input device: connect a microphone, or list devices with `earshot devices`".into())
            })?,
            Some(wanted) => host
                .input_devices()
                .map_err(|e| device_error(format!("cannot list input devices: {e}")))?
                .find(|d| device_name(d).contains(wanted))
                .ok_or_else(|| device_error(format!("no input device named like {wanted:?}: see `earshot devices`")))?,
        };
        let config = device.default_input_config().map_err(|e| {
            device_error(format!(
                "input device {:?} is not available ({e}): is it in use or unplugged? `earshot devices` lists the inputs; --stdin and --replay need none",
                device_name(&device)
            ))
        })?;
        let config = if sample_rate_hz == 0 || sample_rate_hz == config.sample_rate() {
            config
        } else {
            let ranges = device.supported_input_configs().map_err(|e| {
                device_error(format!(
                    "cannot query input device {:?}: {e}",
                    device_name(&device)
                ))
            })?;
            ranges
                .filter(|r| r.channels() == config.channels() && r.sample_format() == config.sample_format())
                .find(|r| (r.min_sample_rate()..=r.max_sample_rate()).contains(&sample_rate_hz))
                .map(|r| r.with_sample_rate(sample_rate_hz))
                .ok_or_else(|| {
                    device_error(format!(
                        "input device {:?} cannot capture at {sample_rate_hz} Hz (its default is {} Hz): set the \
                         profile's capture.sample_rate_hz to 0 or to a supported rate",
                        device_name(&device),
                        config.sample_rate()
                    ))
                })?
        };
        let buffer = match period_ms {
            0 => cpal::BufferSize::Default,
            ms => cpal::BufferSize::Fixed(config.sample_rate() * ms / 1000),
        };
        Ok(Microphone {
            device,
            config,
            buffer,
        })
    }

    /// The device's name.
    pub fn name(&self) -> String {
        device_name(&self.device)
    }

    /// Sample rate the device delivers.
    pub fn sample_rate(&self) -> u32 {
        self.config.sample_rate()
    }

    /// Channels the device delivers.
    pub fn channels(&self) -> u16 {
        self.config.channels()
    }

    /// Sample encoding the device delivers (earshot takes f32 and i16).
    pub fn sample_format(&self) -> String {
        self.config.sample_format().to_string()
    }

    /// Start capturing into `capture` (built for this device's rate and channels). Capture times are nanoseconds
    /// since `epoch`.
    pub fn start(self, capture: CaptureSide, epoch: Instant) -> Result<LiveCapture> {
        let (tx, errors) = channel();
        let name = self.name();
        let on_error = move |e: cpal::Error| {
            let _ = tx.send(format!("{e}"));
        };
        let mut config = self.config.config();
        config.buffer_size = self.buffer;
        let mut side = FinishOnDrop { capture, epoch };
        // Capture time of a callback's first sample: now, minus how long ago the device captured it.
        let captured_ns = move |info: &cpal::InputCallbackInfo| {
            let ts = info.timestamp();
            let age = ts.callback.saturating_duration_since(ts.capture);
            u64::try_from(epoch.elapsed().saturating_sub(age).as_nanos()).unwrap_or(u64::MAX)
        };
        let stream = match self.config.sample_format() {
            cpal::SampleFormat::F32 => self.device.build_input_stream(
                config,
                move |data: &[f32], info: &cpal::InputCallbackInfo| {
                    side.capture.push_f32(data, captured_ns(info))
                },
                on_error,
                None,
            ),
            cpal::SampleFormat::I16 => self.device.build_input_stream(
                config,
                move |data: &[i16], info: &cpal::InputCallbackInfo| {
                    side.capture.push_i16(data, captured_ns(info))
                },
                on_error,
                None,
            ),
            other => {
                return Err(device_error(format!(
                    "input device {name:?} delivers {other} samples; earshot takes f32 or i16"
                )))
            }
        }
        .map_err(|e| device_error(format!("cannot open input device {name:?}: {e}")))?;
        stream
            .play()
            .map_err(|e| device_error(format!("cannot start input device {name:?}: {e}")))?;
        Ok(LiveCapture { stream, errors })
    }
}

impl LiveCapture {
    /// A device error reported since the last call (the device was lost, an overrun in the driver, ...).
    pub fn error(&self) -> Option<String> {
        self.errors.try_recv().ok()
    }

    /// Stop the device; the capture side's input ends.
    pub fn stop(self) {
        let _ = self.stream.pause();
        drop(self.stream);
    }
}
