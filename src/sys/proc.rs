//! CPU times from `/proc`: the whole process, or the threads whose name starts with a prefix.

/// utime + stime of the whole process, in clock ticks.
pub fn process_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    let Some(close) = stat.rfind(')') else { return 0 };
    cpu_ticks_after_comm(&stat[close + 1..])
}

/// utime + stime of every thread of this process whose name starts with `prefix`.
pub fn thread_ticks(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    let mut total = 0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        // Format: pid (comm) state ... ; comm may contain spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        total += cpu_ticks_after_comm(&stat[close + 1..]);
    }
    total
}

/// utime + stime from the part of a `/proc/…/stat` line after the `(comm)`: state is
/// field 0 there, utime field 11, stime field 12.
pub fn cpu_ticks_after_comm(rest: &str) -> u64 {
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime = fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let stime = fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    utime + stime
}

/// Clock ticks per second of `/proc`'s CPU times (100 when the system does not say).
pub fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}
