//! `dotenv`: see `terrafix_tui::fuzzing::dotenv` for what it feeds where.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| terrafix_tui::fuzzing::dotenv(data));
