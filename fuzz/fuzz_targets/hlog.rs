//! `hlog`: see `terrafix_tui::fuzzing::hlog` for what it feeds where.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| terrafix_tui::fuzzing::hlog(data));
