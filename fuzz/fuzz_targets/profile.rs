//! `profile`: see `terrafix_tui::fuzzing::profile` for what it feeds where.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| terrafix_tui::fuzzing::profile(data));
