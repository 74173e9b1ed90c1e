//! Reading the small text files earshot takes (profiles, pack manifests, vocabularies, corpus manifests, bench
//! reports): capped in size (`/dev/zero` or a video given by mistake is an error, not an allocation until memory
//! runs out), a UTF-8 byte-order mark dropped, and a clear reason when the file is not text at all.

use std::io::Read;
use std::path::Path;

/// The text of `path`, at most `limit` bytes, or why not (`what` names the kind of file expected, for messages).
/// The caller wraps the reason in its own error class (a profile, a pack, an input).
pub(crate) fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("is a folder, not {what}"));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("is larger than {} KiB: not {what}", limit / 1024));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        if bytes.starts_with(b"RIFF") {
            format!("is a WAV file, not {what}")
        } else {
            format!("is not UTF-8 text, not {what}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_size_drops_a_bom_and_names_non_text() {
        let dir = std::env::temp_dir().join(format!("earshot-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let put = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        assert_eq!(
            read_text(&put("bom", b"\xEF\xBB\xBFa = 1\n"), 100, "x").unwrap(),
            "a = 1\n"
        );
        assert!(read_text(&put("big", &[b'a'; 101]), 100, "x")
            .unwrap_err()
            .contains("larger"));
        assert!(
            read_text(&put("wav", b"RIFF\xff\xff\0\0WAVE"), 100, "a profile")
                .unwrap_err()
                .contains("is a WAV file, not a profile")
        );
        assert!(read_text(Path::new("/dev/zero"), 1 << 20, "x")
            .unwrap_err()
            .contains("larger"));
        assert!(read_text(&dir, 100, "x").unwrap_err().contains("folder"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
