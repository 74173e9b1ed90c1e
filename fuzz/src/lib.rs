//! What the fuzz targets share.

use std::sync::OnceLock;

use earshot::features::FrontendSpec;
use earshot::model::Manifest;

/// The bundled model pack's front-end settings (loaded once per process).
pub fn frontend_spec() -> &'static FrontendSpec {
    static SPEC: OnceLock<FrontendSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let pack =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/whisper-tiny-en-int8");
        Manifest::load(&pack)
            .expect("the bundled model pack")
            .frontend
    })
}
