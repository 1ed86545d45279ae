//! `h1_answer`: see `terrafix_tui::fuzzing::h1_answer` for what it feeds where.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| terrafix_tui::fuzzing::h1_answer(data));
