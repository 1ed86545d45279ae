//! Simulated work that ends when it should. tokio's timer counts whole milliseconds: a
//! sleep is rounded up to the next tick, and the runtime then parks in epoll_wait for a
//! whole number of milliseconds, so a 50 ms sleep ended 1–2 ms late (the server's own p50
//! was 51.5 ms). Every simulated latency came out about 3 % long, and at 2,000 connections
//! the server held that much less than connections ÷ latency.
//!
//! Here one timerfd (nanosecond deadlines on CLOCK_MONOTONIC, the clock `Instant` reads)
//! is armed for the earliest pending deadline, then ticks every `TICK` while more are
//! close behind; each expiry wakes every delay that is due. A delay therefore ends at most
//! one `TICK` late (plus the time a busy runtime takes to notice), never early. Setting a timerfd is dear in a VM (the profile put 5 % of a loaded
//! server in `timerfd_settime` when it was re-armed after every expiry), so under load the
//! timer is not touched at all: it just ticks. It is set again only when the next deadline
//! is further off than two ticks, and stopped when nothing waits. Where a timerfd cannot
//! be had (not Linux, or it fails), tokio's sleep does the job, as before.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::sys::timerfd::Timer;

/// Longest a delay may end late; the timer ticks this often while delays are due close
/// together (at most 1,000 expiries a second, however many requests). Measured at 50 ms ×
/// 2,000 connections (README): a 250 µs tick ends delays 0.6 ms sooner still, but the
/// smaller bursts of answers cost the server ~10 % more CPU per request; 1 ms costs nothing.
const TICK: Duration = Duration::from_millis(1);

/// Pending delays of one server, and the timer that ends them.
pub struct Delays {
    /// `None`: tokio's timer is used.
    shared: Option<Arc<Shared>>,
}

/// The driver: it must be polled (beside the server) for precise delays to end. It never
/// returns; if the timer fails it hands every pending delay to tokio's timer and waits.
pub type Driver = Pin<Box<dyn Future<Output = Infallible> + Send>>;

impl Delays {
    /// Precise delays and their driver, or tokio's timer (and a driver with nothing to do)
    /// where a timerfd cannot be made. Needs a tokio runtime with IO enabled.
    pub fn new() -> (Delays, Driver) {
        match Shared::new() {
            Ok(shared) => {
                let shared = Arc::new(shared);
                (Delays { shared: Some(shared.clone()) }, Box::pin(drive(shared)))
            }
            Err(err) => {
                tracing::debug!("mock server: no timerfd ({err}); simulated work uses tokio's timer");
                (Delays::coarse(), Box::pin(std::future::pending()))
            }
        }
    }

    /// Delays on tokio's timer (millisecond ticks).
    pub fn coarse() -> Delays {
        Delays { shared: None }
    }

    /// Ends `length` from now, never earlier.
    pub fn sleep(&self, length: Duration) -> Delay<'_> {
        Delay { delays: self, deadline: Instant::now() + length, id: None, coarse: None }
    }

    #[cfg(test)]
    fn pending(&self) -> usize {
        self.shared.as_ref().map_or(0, |shared| shared.queue().entries.len())
    }
}

/// One simulated piece of work; see `Delays::sleep`.
pub struct Delay<'a> {
    delays: &'a Delays,
    deadline: Instant,
    /// Its place in the queue once it has waited once.
    id: Option<u64>,
    /// Set when tokio's timer does the waiting.
    coarse: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for Delay<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if let Some(sleep) = &mut this.coarse {
            return sleep.as_mut().poll(cx);
        }
        let delays = this.delays;
        let Some(shared) = &delays.shared else {
            return this.wait_coarse(cx);
        };
        let mut queue = shared.queue();
        if queue.broken {
            drop(queue);
            this.leave_queue();
            return this.wait_coarse(cx);
        }
        if Instant::now() >= this.deadline {
            if let Some(id) = this.id.take() {
                queue.entries.remove(&(this.deadline, id));
            }
            return Poll::Ready(());
        }
        let id = *this.id.get_or_insert_with(|| {
            queue.next_id += 1;
            queue.next_id
        });
        match queue.entries.get_mut(&(this.deadline, id)) {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            Some(waker) => waker.clone_from(cx.waker()),
            None => {
                queue.entries.insert((this.deadline, id), cx.waker().clone());
            }
        }
        // Once its first expiry has passed, the timer ticks: the next expiry is at most a
        // TICK away, which is late enough. Before that, an earlier deadline sets it anew.
        if queue.first_expiry.is_none_or(|first| this.deadline + TICK < first) {
            if let Err(err) = shared.timer.arm(this.deadline, TICK) {
                shared.give_up(queue, &err);
                this.leave_queue();
                return this.wait_coarse(cx);
            }
            queue.first_expiry = Some(this.deadline);
        }
        Poll::Pending
    }
}

impl Delay<'_> {
    fn wait_coarse(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = self.coarse.insert(Box::pin(tokio::time::sleep_until(self.deadline.into())));
        sleep.as_mut().poll(cx)
    }

    fn leave_queue(&mut self) {
        if let (Some(id), Some(shared)) = (self.id.take(), &self.delays.shared) {
            shared.queue().entries.remove(&(self.deadline, id));
        }
    }
}

impl Drop for Delay<'_> {
    /// A request whose client went away leaves no entry behind.
    fn drop(&mut self) {
        self.leave_queue();
    }
}

struct Shared {
    queue: Mutex<Queue>,
    timer: Timer,
}

#[derive(Default)]
struct Queue {
    /// Waiting delays by (deadline, id): the first is the next to end.
    entries: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
    /// The timer's first expiry, if it is set; it ticks every `TICK` after that.
    first_expiry: Option<Instant>,
    /// The timer failed: every delay waits on tokio's timer instead.
    broken: bool,
}

impl Shared {
    fn new() -> std::io::Result<Shared> {
        Ok(Shared { queue: Mutex::new(Queue::default()), timer: Timer::new()? })
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A poisoned lock only means a panic while holding it; the map is still whole.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes every delay that is due; stops the timer when nothing waits, and sets it for
    /// the next deadline when that is more than two ticks off (else it keeps ticking).
    fn fire_due(&self) {
        let mut due = Vec::new();
        let mut queue = self.queue();
        let now = Instant::now();
        while let Some(entry) = queue.entries.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        let next = queue.entries.keys().next().map(|&(deadline, _)| deadline);
        let set = match next {
            None => self.timer.stop().map(|()| None),
            Some(next) if next > now + 2 * TICK => self.timer.arm(next, TICK).map(|()| Some(next)),
            Some(_) => Ok(queue.first_expiry),
        };
        match set {
            Ok(first_expiry) => queue.first_expiry = first_expiry,
            Err(err) => {
                self.give_up(queue, &err);
                return;
            }
        }
        drop(queue);
        due.into_iter().for_each(Waker::wake);
    }

    /// The timer failed: hand every delay, now and later, to tokio's timer.
    fn give_up(&self, mut queue: MutexGuard<'_, Queue>, err: &std::io::Error) {
        if !queue.broken {
            tracing::warn!(
                "mock server: the precise timer failed ({err}); simulated work uses tokio's timer"
            );
        }
        queue.broken = true;
        let waiting = std::mem::take(&mut queue.entries);
        drop(queue);
        waiting.into_values().for_each(Waker::wake);
    }
}

async fn drive(shared: Arc<Shared>) -> Infallible {
    loop {
        if let Err(err) = shared.timer.wait().await {
            shared.give_up(shared.queue(), &err);
            return std::future::pending().await;
        }
        shared.fire_due();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    async fn with_driver<T>(delays_test: impl AsyncFnOnce(&Delays) -> T) -> T {
        let (delays, driver) = Delays::new();
        assert!(delays.shared.is_some(), "this machine should have timerfd");
        tokio::select! {
            out = delays_test(&delays) => out,
            never = driver => match never {},
        }
    }

    #[tokio::test]
    async fn delays_never_end_early_and_all_of_them_end() {
        with_driver(async |delays| {
            // Out of order on purpose: the timer must be re-armed for earlier deadlines.
            let lengths: Vec<Duration> =
                (0..200).map(|i| Duration::from_micros((i * 7919) % 30_000)).collect();
            let ends = futures::future::join_all(lengths.iter().map(|&length| async move {
                let started = Instant::now();
                delays.sleep(length).await;
                started.elapsed()
            }))
            .await;
            for (length, took) in lengths.iter().zip(ends) {
                assert!(took >= *length, "a {length:?} delay ended after {took:?}");
                assert!(took < *length + Duration::from_secs(5), "a {length:?} delay took {took:?}");
            }
            assert_eq!(delays.pending(), 0);
            // With nothing left to wait for, the timer stops ticking (at its next expiry).
            let stopped = async {
                while delays.shared.as_ref().is_some_and(|shared| shared.queue().first_expiry.is_some()) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(10), stopped).await.expect("the timer still ticks");
        })
        .await;
    }

    #[tokio::test]
    async fn a_short_delay_behind_a_long_one_is_not_held_back() {
        with_driver(async |delays| {
            let mut long = delays.sleep(Duration::from_secs(600));
            assert!((&mut long).now_or_never().is_none());
            let started = Instant::now();
            tokio::time::timeout(Duration::from_secs(10), delays.sleep(Duration::from_millis(5)))
                .await
                .expect("the 5 ms delay waited for the 600 s one");
            assert!(started.elapsed() >= Duration::from_millis(5));
            assert_eq!(delays.pending(), 1, "the long delay still waits");
        })
        .await;
    }

    #[tokio::test]
    async fn a_dropped_delay_leaves_the_queue() {
        with_driver(async |delays| {
            let mut waiting: Vec<_> = (1..=3).map(|s| delays.sleep(Duration::from_secs(s))).collect();
            for delay in &mut waiting {
                assert!(delay.now_or_never().is_none());
            }
            assert_eq!(delays.pending(), 3);
            waiting.truncate(1);
            assert_eq!(delays.pending(), 1);
            drop(waiting);
            assert_eq!(delays.pending(), 0);
        })
        .await;
    }

    #[tokio::test]
    async fn a_broken_timer_hands_its_delays_to_tokio() {
        with_driver(async |delays| {
            let shared = delays.shared.as_ref().expect("precise delays");
            let mut waiting = delays.sleep(Duration::from_millis(20));
            assert!((&mut waiting).now_or_never().is_none());
            shared.give_up(shared.queue(), &std::io::Error::other("test"));
            assert_eq!(delays.pending(), 0);
            let started = Instant::now();
            waiting.await;
            delays.sleep(Duration::from_millis(10)).await;
            assert!(started.elapsed() >= Duration::from_millis(10));
        })
        .await;
    }

    #[tokio::test]
    async fn coarse_delays_end_too() {
        let delays = Delays::coarse();
        let started = Instant::now();
        delays.sleep(Duration::from_millis(15)).await;
        assert!(started.elapsed() >= Duration::from_millis(15));
    }
}
