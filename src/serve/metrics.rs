//! The server's metrics, in Prometheus' text format (`GET /metrics`), on the `prometheus-client` crate.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The protocol of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Wyoming (Home Assistant).
    Wyoming,
    /// OpenAI's `POST /v1/audio/transcriptions`.
    Http,
    /// OpenAI's Realtime transcription WebSocket.
    Realtime,
}

impl Protocol {
    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Wyoming => "wyoming",
            Protocol::Http => "http",
            Protocol::Realtime => "realtime",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProtocolLabel {
    protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RefusalLabels {
    protocol: String,
    code: String,
}

type LatencyFamily = Family<ProtocolLabel, Histogram, fn() -> Histogram>;

/// Sessions open and served, audio seconds, end of audio -> transcript latency, refusals by code; per protocol.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    open: Family<ProtocolLabel, Gauge>,
    served: Family<ProtocolLabel, Counter>,
    audio: Family<ProtocolLabel, Counter<f64, AtomicU64>>,
    latency: LatencyFamily,
    refusals: Family<RefusalLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    /// Empty metrics, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("earshot");
        let open = Family::<ProtocolLabel, Gauge>::default();
        let served = Family::<ProtocolLabel, Counter>::default();
        let audio = Family::<ProtocolLabel, Counter<f64, AtomicU64>>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let refusals = Family::<RefusalLabels, Counter>::default();
        registry.register("sessions_open", "Sessions open now", open.clone());
        registry.register("sessions_served", "Sessions served", served.clone());
        registry.register("audio_seconds", "Seconds of audio received", audio.clone());
        registry.register(
            "transcript_latency_seconds",
            "End of audio (audio-stop, the end of an upload, a commit or a turn's end) to its transcript",
            latency.clone(),
        );
        registry.register(
            "refusals",
            "Sessions or requests refused, by error code",
            refusals.clone(),
        );
        Metrics {
            registry,
            open,
            served,
            audio,
            latency,
            refusals,
        }
    }

    fn label(protocol: Protocol) -> ProtocolLabel {
        ProtocolLabel {
            protocol: protocol.name().into(),
        }
    }

    pub(crate) fn opened(&self, protocol: Protocol) {
        self.open.get_or_create(&Self::label(protocol)).inc();
    }

    pub(crate) fn closed(&self, protocol: Protocol) {
        self.open.get_or_create(&Self::label(protocol)).dec();
        self.served.get_or_create(&Self::label(protocol)).inc();
    }

    /// Count `seconds` of audio received.
    pub fn audio(&self, protocol: Protocol, seconds: f64) {
        self.audio
            .get_or_create(&Self::label(protocol))
            .inc_by(seconds);
    }

    /// Record one end of audio -> transcript latency.
    pub fn latency(&self, protocol: Protocol, latency: Duration) {
        self.latency
            .get_or_create(&Self::label(protocol))
            .observe(latency.as_secs_f64());
    }

    /// Count one refusal with its error code.
    pub fn refused(&self, protocol: Protocol, code: &str) {
        self.refusals
            .get_or_create(&RefusalLabels {
                protocol: protocol.name().into(),
                code: code.into(),
            })
            .inc();
    }

    /// Everything, in Prometheus' text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
