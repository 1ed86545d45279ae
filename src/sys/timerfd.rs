//! A timer with nanosecond deadlines: one timerfd on CLOCK_MONOTONIC (the clock `Instant`
//! reads), registered with the tokio runtime. tokio's own timer counts whole milliseconds
//! (a sleep is rounded up to its next tick and the runtime parks in whole milliseconds), too
//! coarse for the mock's simulated work and for the open model's arrivals. Armed once for a
//! first deadline, it then ticks at a fixed interval without another system call; setting a
//! timerfd is dear in a VM, so its users re-arm it only when the next deadline is far off.
//! Linux only: elsewhere [`Timer::new`] fails and the caller falls back to tokio's timer.

#[cfg(target_os = "linux")]
mod imp {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    use tokio::io::unix::AsyncFd;

    fn timespec(ns: u128) -> libc::timespec {
        libc::timespec {
            tv_sec: (ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (ns % 1_000_000_000) as libc::c_long,
        }
    }

    /// A non-blocking timerfd on CLOCK_MONOTONIC, registered with the runtime.
    pub struct Timer {
        fd: AsyncFd<OwnedFd>,
        /// An instant and the CLOCK_MONOTONIC reading taken just after it: deadlines are
        /// converted through this pair, so the conversion can only err late, never early.
        base: Instant,
        base_ns: u128,
    }

    impl Timer {
        /// A timerfd on CLOCK_MONOTONIC registered with the current tokio runtime (IO enabled).
        pub fn new() -> std::io::Result<Timer> {
            // SAFETY: timerfd_create takes no pointers; a non-negative result is a new fd we own.
            let raw = unsafe {
                libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC)
            };
            if raw < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `raw` was just returned by timerfd_create and nothing else owns it.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            let base = Instant::now();
            let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: clock_gettime writes into the timespec we pass and reads nothing else.
            if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let base_ns = now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128;
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(std::io::Error::other("no tokio runtime to register the timer with"));
            }
            // SAFETY: the AsyncFd owns the OwnedFd, so the fd stays open and the same for its life.
            let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }?;
            Ok(Timer { fd, base, base_ns })
        }

        /// Sets the timer to expire at `first` (at once if it has passed), then every `every`.
        pub fn arm(&self, first: Instant, every: Duration) -> std::io::Result<()> {
            let ns = self.base_ns + first.saturating_duration_since(self.base).as_nanos();
            self.set(timespec(ns), timespec(every.as_nanos()))
        }

        /// Stops the timer.
        pub fn stop(&self) -> std::io::Result<()> {
            self.set(timespec(0), timespec(0))
        }

        fn set(&self, first: libc::timespec, every: libc::timespec) -> std::io::Result<()> {
            let spec = libc::itimerspec { it_interval: every, it_value: first };
            // SAFETY: the fd is our open timerfd; `spec` lives across the call; the old value
            // is not asked for (null).
            let set = unsafe {
                libc::timerfd_settime(
                    self.fd.as_raw_fd(),
                    libc::TFD_TIMER_ABSTIME,
                    &spec,
                    std::ptr::null_mut(),
                )
            };
            if set != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        }

        /// Waits until the timer has expired (and clears it).
        pub async fn wait(&self) -> std::io::Result<()> {
            loop {
                let mut ready = self.fd.readable().await?;
                let read = ready.try_io(|fd| {
                    let mut expirations = 0u64;
                    // SAFETY: reads at most 8 bytes into a u64 that lives across the call.
                    let n = unsafe {
                        libc::read(fd.as_raw_fd(), (&raw mut expirations).cast(), std::mem::size_of::<u64>())
                    };
                    if n < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
                });
                match read {
                    Ok(result) => return result,
                    // Not expired after all: readiness was cleared, wait again.
                    Err(_would_block) => continue,
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::time::{Duration, Instant};

    /// No timerfd here: [`Timer::new`] fails and callers use tokio's timer.
    pub struct Timer;

    impl Timer {
        /// Always fails: timerfd is Linux-only.
        pub fn new() -> std::io::Result<Timer> {
            Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "timerfd is Linux-only"))
        }
        /// Nothing to arm.
        pub fn arm(&self, _first: Instant, _every: Duration) -> std::io::Result<()> {
            Ok(())
        }
        /// Nothing to stop.
        pub fn stop(&self) -> std::io::Result<()> {
            Ok(())
        }
        /// Never expires.
        pub async fn wait(&self) -> std::io::Result<()> {
            std::future::pending().await
        }
    }
}

pub use imp::Timer;
