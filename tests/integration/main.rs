//! earshot's integration tests: one binary, real model pack, committed fixtures (see tests/fixtures/).

mod cli;
mod common;
mod corpus;
mod frontend;
mod model_parity;
mod wav_formats;
