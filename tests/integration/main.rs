//! earshot's integration tests: one binary, real model pack, committed fixtures (see tests/fixtures/).

mod alloc_counter;
mod bad_input;
mod bench_cli;
mod cli;
mod common;
mod corpus;
mod frontend;
mod fuzz_regressions;
mod languages;
mod listen_cli;
mod live;
mod model_parity;
mod openai;
mod serve;
mod vocabulary;
mod wav_formats;

#[global_allocator]
static ALLOCATOR: alloc_counter::CountingAllocator = alloc_counter::CountingAllocator;
