//! What the tool reads from and sets on its own process and machine: CPU times from
//! `/proc`, the generator probe, the wall clock, rlimits and free memory. Both `experiment`
//! and `cluster` use it; it uses neither.

#![deny(missing_docs)]

pub mod clock;
pub mod limits;
pub mod probe;
pub mod proc;
pub mod timerfd;
