//! Device-profile parsing on arbitrary text: never a panic; an error names the file; a profile that parses is
//! valid and survives a round trip through TOML unchanged.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

use earshot::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    match Profile::parse(text, path) {
        Err(e) => assert!(e.to_string().contains("fuzz.toml"), "{e}"),
        Ok(profile) => {
            let again = toml::to_string(&profile).expect("serialize");
            let back = Profile::parse(&again, path).expect("a valid profile parses again");
            assert_eq!(back, profile);
        }
    }
});
