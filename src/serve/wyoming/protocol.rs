//! The Wyoming protocol's framing (Home Assistant's voice pipeline), as the `wyoming` Python package 1.10 reads and
//! writes it.
//!
//! An event on the wire: a JSON header line `{"type", "version", "data_length"?, "payload_length"?, "data"?}` and
//! `\n`, then `data_length` bytes of UTF-8 JSON (an object merged over any inline `data`), then `payload_length` bytes
//! of payload (audio). Reading is bounded: a header line, a data block and a payload each have a size limit, so a
//! bad client cannot make the server allocate without bound.

use std::io::{BufRead, Read, Write};

use serde_json::{Map, Value};

/// The protocol version written in every header (the `wyoming` package version this follows).
pub const PROTOCOL_VERSION: &str = "1.10.2";

/// Size limits for reading events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest header line, bytes (without the newline).
    pub header_bytes: usize,
    /// Largest `data_length`.
    pub data_bytes: usize,
    /// Largest `payload_length`.
    pub payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_bytes: 64 * 1024,
            data_bytes: 1024 * 1024,
            payload_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One event: its type, its data (an object) and its payload (empty when none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    /// `describe`, `audio-chunk`, `transcript`, ...
    pub kind: String,
    /// The merged data object.
    pub data: Map<String, Value>,
    /// Binary payload (audio samples for `audio-chunk`).
    pub payload: Vec<u8>,
}

impl Event {
    /// An event of `kind` with `data` (a JSON object; anything else counts as no data) and no payload.
    pub fn new(kind: &str, data: Value) -> Event {
        Event {
            kind: kind.to_string(),
            data: match data {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            payload: Vec::new(),
        }
    }
}

/// Why an event could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The connection failed or timed out.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection in the middle of an event.
    #[error("the connection closed in the middle of an event")]
    Truncated,
    /// The header line is longer than the limit.
    #[error("header line over {0} bytes")]
    HeaderTooLong(usize),
    /// A length field is over its limit.
    #[error("{field} {value} is over the limit of {limit} bytes")]
    TooLong {
        /// `data_length` or `payload_length`.
        field: &'static str,
        /// What the header said.
        value: u64,
        /// The limit.
        limit: usize,
    },
    /// The header or the data block is not what the protocol says.
    #[error("malformed event: {0}")]
    Malformed(String),
}

/// Read the next event; `Ok(None)` when the peer closed the connection between events.
pub fn read_event(
    reader: &mut impl BufRead,
    limits: &Limits,
) -> Result<Option<Event>, ProtocolError> {
    let mut line = Vec::new();
    reader
        .take(limits.header_bytes as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() > limits.header_bytes {
            ProtocolError::HeaderTooLong(limits.header_bytes)
        } else {
            ProtocolError::Truncated
        });
    }
    let header: Value = serde_json::from_slice(&line)
        .map_err(|e| ProtocolError::Malformed(format!("header is not JSON ({e})")))?;
    let Value::Object(mut header) = header else {
        return Err(ProtocolError::Malformed(
            "header is not a JSON object".into(),
        ));
    };
    let kind = match header.remove("type") {
        Some(Value::String(kind)) => kind,
        _ => {
            return Err(ProtocolError::Malformed(
                "header has no \"type\" string".into(),
            ))
        }
    };
    let mut data = match header.remove("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(data)) => data,
        Some(_) => return Err(ProtocolError::Malformed("\"data\" is not an object".into())),
    };
    let data_length = length(&header, "data_length", limits.data_bytes)?;
    let payload_length = length(&header, "payload_length", limits.payload_bytes)?;
    if data_length > 0 {
        let block = read_exact(reader, data_length)?;
        match serde_json::from_slice(&block) {
            Ok(Value::Object(more)) => data.extend(more),
            _ => {
                return Err(ProtocolError::Malformed(
                    "the data block is not a JSON object".into(),
                ))
            }
        }
    }
    let payload = read_exact(reader, payload_length)?;
    Ok(Some(Event {
        kind,
        data,
        payload,
    }))
}

/// A length field of the header: absent or null is 0; a negative, fractional or oversized value is an error.
fn length(
    header: &Map<String, Value>,
    field: &'static str,
    limit: usize,
) -> Result<usize, ProtocolError> {
    match header.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(value) if value <= limit as u64 => Ok(value as usize),
            Some(value) => Err(ProtocolError::TooLong {
                field,
                value,
                limit,
            }),
            None => Err(ProtocolError::Malformed(format!(
                "{field} {n} is not a byte count"
            ))),
        },
        Some(other) => Err(ProtocolError::Malformed(format!(
            "{field} {other} is not a byte count"
        ))),
    }
}

fn read_exact(reader: &mut impl Read, n: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut buf = vec![0u8; n];
    reader.read_exact(&mut buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => ProtocolError::Truncated,
        _ => ProtocolError::Io(e),
    })?;
    Ok(buf)
}

/// Write `event` as the Python writer does: the data in a separate block after the header, then the payload.
pub fn write_event(writer: &mut impl Write, event: &Event) -> std::io::Result<()> {
    let mut header = Map::new();
    header.insert("type".into(), Value::String(event.kind.clone()));
    header.insert("version".into(), Value::String(PROTOCOL_VERSION.into()));
    let data = (!event.data.is_empty())
        .then(|| serde_json::to_vec(&event.data))
        .transpose()?;
    if let Some(data) = &data {
        header.insert("data_length".into(), data.len().into());
    }
    if !event.payload.is_empty() {
        header.insert("payload_length".into(), event.payload.len().into());
    }
    let mut bytes = serde_json::to_vec(&header)?;
    bytes.push(b'\n');
    bytes.extend(data.unwrap_or_default());
    bytes.extend_from_slice(&event.payload);
    writer.write_all(&bytes)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Option<Event>, ProtocolError> {
        read_event(
            &mut std::io::Cursor::new(bytes.to_vec()),
            &Limits::default(),
        )
    }

    #[test]
    fn inline_and_separate_data_merge_and_round_trip() {
        let wire = b"{\"type\":\"audio-chunk\",\"data\":{\"rate\":16000,\"width\":1},\"data_length\":24,\"payload_length\":2}\n{\"width\":2,\"channels\":1}\x01\x02";
        let event = read(wire).unwrap().unwrap();
        assert_eq!(event.kind, "audio-chunk");
        assert_eq!(event.data["rate"], 16000);
        assert_eq!(
            event.data["width"], 2,
            "the data block wins over inline data"
        );
        assert_eq!(event.payload, [1, 2]);
        let mut out = Vec::new();
        write_event(&mut out, &event).unwrap();
        assert_eq!(read(&out).unwrap().unwrap(), event);
        assert!(read(b"").unwrap().is_none());
    }

    #[test]
    fn bad_events_are_errors_not_panics_or_allocations() {
        let long = format!("{{\"type\":\"{}\"}}\n", "x".repeat(70_000));
        assert!(matches!(
            read(long.as_bytes()),
            Err(ProtocolError::HeaderTooLong(_))
        ));
        assert!(matches!(
            read(b"{\"type\":\"a\",\"payload_length\":99999999999}\n"),
            Err(ProtocolError::TooLong {
                field: "payload_length",
                ..
            })
        ));
        assert!(matches!(
            read(b"{\"type\":\"a\",\"data_length\":-1}\n"),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            read(b"not json\n"),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(read(b"[1]\n"), Err(ProtocolError::Malformed(_))));
        assert!(matches!(
            read(b"{\"data\":{}}\n"),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            read(b"{\"type\":\"a\",\"payload_length\":5}\n12"),
            Err(ProtocolError::Truncated)
        ));
        assert!(matches!(
            read(b"{\"type\":\"a\""),
            Err(ProtocolError::Truncated)
        ));
        assert!(matches!(
            read(b"{\"type\":\"a\",\"data_length\":3}\n[1]"),
            Err(ProtocolError::Malformed(_))
        ));
    }
}
