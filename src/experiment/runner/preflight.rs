//! The checks before anything starts: a profile this target or this machine cannot run is
//! refused with what to change, before a folder is made or a target brought up.

use crate::experiment::{RunError, Target};

/// A service fault needs the Docker target; one that is not `optional` refuses the run
/// before anything starts (an optional one is skipped with a note in its report).
pub(super) fn check_faults_fit(profile: &crate::profile::Profile, target: &Target) -> Result<(), RunError> {
    if matches!(target, Target::Docker) {
        return Ok(());
    }
    for phase in &profile.phases {
        for fault in &phase.faults {
            if let crate::profile::FaultKind::Service { service, action, optional: false } = &fault.kind {
                return Err(RunError::Faults(format!(
                    "phase {}: the fault `{} {service}` needs the Docker target (--target docker), not {}; \
                     add `optional: true` to the fault to skip it on other targets",
                    phase.name,
                    action.as_str(),
                    target.label()
                )));
            }
        }
    }
    Ok(())
}

/// File descriptors kept for everything but the load's connections (logs, files, Docker).
const SPARE_FDS: u64 = 128;
/// A virtual user's memory, generously (its task, connection and buffers).
const BYTES_PER_USER: u64 = 64 << 10;

/// Refuses phases this machine cannot hold: each closed-model user (and each open-model
/// request in flight) keeps a connection — two sockets with the embedded target, which
/// lives in this process — and some memory. The soft file limit is raised to the hard one
/// first, as servers do.
pub(super) fn check_machine_holds(
    profile: &crate::profile::Profile,
    target: &Target,
) -> Result<(), RunError> {
    use crate::profile::Load;
    let per_connection: u64 = if matches!(target, Target::Embedded) { 2 } else { 1 };
    let Some(worst) = profile
        .phases
        .iter()
        .map(|p| match p.load {
            Load::Closed { users, .. } => (u64::from(users.get()), p.name.as_str(), "users"),
            Load::Open { max_in_flight, .. } => {
                (u64::from(max_in_flight.get()), p.name.as_str(), "max_in_flight")
            }
        })
        .max_by_key(|w| w.0)
    else {
        return Ok(());
    };
    let (count, phase, what) = worst;
    let files = crate::sys::limits::raise_file_limit();
    let needed = count * per_connection + SPARE_FDS;
    if needed > files {
        let most = files.saturating_sub(SPARE_FDS) / per_connection;
        return Err(RunError::Faults(format!(
            "phase {phase}: {what} {count} needs about {needed} open files ({per_connection} per connection{}), \
             but this process may open {files} (ulimit -n); raise the limit (ulimit -n {needed}) or keep {what} \
             at or below {most}",
            if per_connection == 2 { ": the embedded target's side is in this process too" } else { "" }
        )));
    }
    if let Some(available) = crate::sys::limits::available_memory_bytes() {
        let needed = count.saturating_mul(BYTES_PER_USER);
        if needed > available {
            return Err(RunError::Faults(format!(
                "phase {phase}: {what} {count} would need about {} MB of memory and {} MB is available; \
                 keep {what} at or below {}",
                needed >> 20,
                available >> 20,
                available / BYTES_PER_USER
            )));
        }
    }
    Ok(())
}
