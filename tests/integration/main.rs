//! earshot's integration tests: one binary, real model pack, committed fixtures (see tests/fixtures/).

mod common;
mod corpus;
mod frontend;
mod model_parity;
