//! Bounded reads and owned writes: the one place commands open a file they did not make
//! in this process, or write one. Every read is of a regular file under a size cap (a
//! FIFO, a device or a folder is refused before a byte is read); every path found inside a
//! summary stays inside its run folder; every write is a temp file + rename in the
//! destination's folder that never lands on a device, a FIFO, a symlink or a file of a run.
//! docs/results-files.md lists the caps and the write rules. Imports nothing of ours.

#![deny(missing_docs)]

use std::fs::File;
use std::io::{Read, Write as _};
use std::path::{Component, Path, PathBuf};

use crate::metrics::summary::SUMMARY_FILE;

/// `.env` in the working directory: a few dozen variables, never near a megabyte.
pub const ENV_FILE_CAP: u64 = 1 << 20;
/// A PEM file (`--ca-cert`, `serve --tls-cert`/`--tls-key`): a long chain is tens of kB.
pub const PEM_CAP: u64 = 1 << 20;
/// `experiment_summary.json`: a 200-phase run writes under 2 MiB.
pub const SUMMARY_CAP: u64 = 64 << 20;
/// One CSV of a run (`_stats_history.csv`, `resources.csv`, …): ~250 bytes a row, so
/// days of one-second rows; read as a stream, never whole.
pub const CSV_CAP: u64 = 128 << 20;
/// One `.hlog`: a few kB a second, so a day-long phase fits.
pub const HLOG_CAP: u64 = 256 << 20;

/// A chart PNG embedded into a report: 3200×2000 at worst is a few MiB.
pub const CHART_CAP: u64 = 32 << 20;

/// The longest suite or phase name: it is a folder or file name, and file names stop at 255 bytes.
pub const MAX_COMPONENT_LEN: usize = 100;

/// A file read or write refused or failed; each message names the file, the rule and the fix.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The path is a folder, device, FIFO or similar, not a regular file.
    #[error("{what} {path} is {kind}, not a regular file; pass the path of a regular file")]
    NotRegular {
        /// What the file is for, in words (`the summary`).
        what: String,
        /// The path as given.
        path: PathBuf,
        /// What it is instead (`a folder`, `a device`, `a FIFO (named pipe)`, …).
        kind: &'static str,
    },
    /// The file is over the size cap for its kind.
    #[error(
        "{what} {path} is larger than the limit of {limit}; is this the right file? (the limits are in docs/results-files.md)"
    )]
    TooLarge {
        /// What the file is for, in words.
        what: String,
        /// The path as given.
        path: PathBuf,
        /// The cap, in words (`64 MiB`).
        limit: String,
    },
    /// Opening or reading the file failed (or a text file is not UTF-8).
    #[error("cannot read {what} {path}: {source}; check the path and its permissions")]
    Read {
        /// What the file is for, in words.
        what: String,
        /// The path as given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path listed in a summary is absolute or leads out of its run folder.
    #[error(
        "the path `{listed}` in {summary} {why}; paths in a summary must be relative and stay inside the run folder (was the summary edited?)"
    )]
    OutsideRun {
        /// The path as the summary lists it.
        listed: String,
        /// The summary file that lists it.
        summary: PathBuf,
        /// What is wrong with it (`is empty or holds a NUL byte`, …).
        why: &'static str,
    },
    /// A write the policy forbids (a file inside a run folder, an existing file without `--force`, a symlink).
    #[error("refusing to write {path}: {why}")]
    Refused {
        /// The destination.
        path: PathBuf,
        /// Which rule refused it.
        why: String,
    },
    /// Writing the temp file or renaming it into place failed.
    #[error(
        "cannot write {path}: {source}; check the folder exists and is writable, and the disk is not full"
    )]
    Write {
        /// The destination.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl FsError {
    /// True when the caller named something it should not have (exit 2), not a machine fault.
    pub fn is_usage(&self) -> bool {
        !matches!(self, Self::Write { .. })
    }

    /// As an I/O error carrying [`FsError::reason`], for readers whose errors name the path
    /// themselves; a failed open keeps its own kind (`NotFound` stays `NotFound`).
    pub fn into_io(self) -> std::io::Error {
        match self {
            Self::Read { source, .. } | Self::Write { source, .. } => source,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.reason()),
        }
    }

    /// The reason alone, for a message that already names the flag and the path.
    pub fn reason(&self) -> String {
        match self {
            Self::NotRegular { kind, .. } => format!("it is {kind}, not a regular file"),
            Self::TooLarge { limit, .. } => format!("it is larger than the limit of {limit}"),
            Self::Read { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symlink"
    } else {
        "not a regular file"
    }
}

/// `1 MiB`, `64 MiB`, `512 kB`.
pub fn format_limit(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1024 {
        format!("{} kB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Opens a regular file for reading, refusing anything else and anything over `cap` bytes.
/// The open never blocks (a FIFO with no writer is refused, not waited on), and the kind is
/// checked on the opened file, so a swap between check and read changes nothing. The file
/// comes back limited to `cap` bytes, so a file that grows after the check still stops there.
pub fn open_capped(path: &Path, cap: u64, what: &str) -> Result<std::io::Take<File>, FsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let read_err = |source| FsError::Read { what: what.to_string(), path: path.to_path_buf(), source };
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(FsError::NotRegular {
            what: what.to_string(),
            path: path.to_path_buf(),
            kind: kind_of(&meta),
        });
    }
    if meta.len() > cap {
        return Err(too_large(path, cap, what));
    }
    Ok(file.take(cap + 1))
}

fn too_large(path: &Path, cap: u64, what: &str) -> FsError {
    FsError::TooLarge { what: what.to_string(), path: path.to_path_buf(), limit: format_limit(cap) }
}

/// Reads a whole regular file of at most `cap` bytes. `what` names it in messages
/// (`"the .env file"`, `"--ca-cert"`).
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, FsError> {
    let mut reader = open_capped(path, cap, what)?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|source| FsError::Read {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.len() as u64 > cap {
        return Err(too_large(path, cap, what));
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_capped_string(path: &Path, cap: u64, what: &str) -> Result<String, FsError> {
    let bytes = read_capped(path, cap, what)?;
    String::from_utf8(bytes).map_err(|e| FsError::Read {
        what: what.to_string(),
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })
}

/// A path listed in a run's summary, resolved inside the run folder: relative, without
/// `..`, and (when it exists) not leading out of the folder through a symlink.
pub fn resolve_in_run(run_dir: &Path, listed: &str) -> Result<PathBuf, FsError> {
    let outside =
        |why| FsError::OutsideRun { listed: listed.to_string(), summary: run_dir.join(SUMMARY_FILE), why };
    if listed.is_empty() || listed.contains('\0') {
        return Err(outside("is empty or holds a NUL byte"));
    }
    for component in Path::new(listed).components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(outside("climbs out with `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(outside("is absolute")),
        }
    }
    let joined = run_dir.join(listed);
    // A file that is not there is the caller's "missing" case; a dangling link reads as missing.
    if let Ok(real) = joined.canonicalize() {
        let root = run_dir.canonicalize().unwrap_or_else(|_| run_dir.to_path_buf());
        if !real.starts_with(&root) {
            return Err(outside("leads out of the run folder through a symlink"));
        }
    }
    Ok(joined)
}

/// True when `name` can be used as one folder or file name: not empty, not `.` or `..`,
/// no `/`, `\` or NUL, no leading `-` and at most [`MAX_COMPONENT_LEN`] bytes.
pub fn is_safe_component(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('-')
        && name.len() <= MAX_COMPONENT_LEN
        && !name.contains(['/', '\\', '\0'])
}

/// `name` as a safe path component: itself when [`is_safe_component`], else with every
/// character but letters, digits, `-`, `_` and `.` made `_` (and `.`/`..`/empty made `_`).
/// Profiles refuse unsafe suite and phase names; this is the second line of defence.
pub fn safe_component(name: &str) -> String {
    if is_safe_component(name) {
        return name.to_string();
    }
    let mut clean: String = name
        .chars()
        .take(MAX_COMPONENT_LEN)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    if clean.starts_with('-') {
        clean.replace_range(0..1, "_");
    }
    if clean.chars().all(|c| c == '.') {
        clean = "_".repeat(clean.len().max(1));
    }
    clean
}

/// Who may replace an existing file at a destination.
#[derive(Clone, Copy, Debug)]
pub enum WritePolicy<'a> {
    /// A file a command regenerates in a folder it writes (a run's `charts/*.png` and its
    /// HTML, `charts --out`'s files): an existing regular file is replaced, and the folder
    /// must resolve inside `root` (so a `charts/` symlink cannot carry the write elsewhere).
    Regenerate {
        /// The folder the destination must resolve inside.
        root: &'a Path,
    },
    /// A path the user named (`export --out`, `compare --chart`): never a file inside a
    /// run folder; another existing regular file only with `force`, or when it starts with
    /// `ours` (the kind of file this command writes, e.g. a PNG's signature).
    UserNamed {
        /// `--force`: any existing regular file outside a run folder may be replaced.
        force: bool,
        /// The leading bytes of a file this command writes; an existing file starting with them may be replaced.
        ours: Option<&'a [u8]>,
    },
}

/// True when `dir` or a folder above it holds an `experiment_summary.json`.
pub fn inside_run_folder(dir: &Path) -> Option<PathBuf> {
    let real = dir.canonicalize().ok()?;
    real.ancestors().find(|d| d.join(SUMMARY_FILE).is_file()).map(Path::to_path_buf)
}

/// Checks `dest` may be written under `policy` (see [`write_atomic`]) without writing it.
pub fn check_destination(dest: &Path, policy: WritePolicy<'_>) -> Result<(), FsError> {
    let refuse = |why: String| FsError::Refused { path: dest.to_path_buf(), why };
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if dest.file_name().is_none() {
        return Err(refuse("it names no file; give a file name".to_string()));
    }
    let existing = std::fs::symlink_metadata(dest).ok();
    if let Some(meta) = &existing
        && !meta.is_file()
    {
        return Err(refuse(format!("it is {}, not a regular file; choose another path", kind_of(meta))));
    }
    match policy {
        WritePolicy::Regenerate { root } => {
            let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
            if let Ok(real_parent) = parent.canonicalize()
                && !real_parent.starts_with(&real_root)
            {
                return Err(refuse(format!(
                    "its folder leads out of {} (through a symlink?); remove the link and try again",
                    root.display()
                )));
            }
        }
        WritePolicy::UserNamed { force, ours } => {
            let Some(_) = existing else { return Ok(()) };
            if let Some(run) = inside_run_folder(parent) {
                return Err(refuse(format!(
                    "it is a file of the run folder {}, which no command replaces; choose a path outside it",
                    run.display()
                )));
            }
            let is_ours = ours.is_some_and(|magic| starts_with(dest, magic));
            if !force && !is_ours {
                return Err(refuse(
                    "it already exists; pass --force to replace it, or choose another path".to_string(),
                ));
            }
        }
    }
    Ok(())
}

fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let Ok(mut reader) = open_capped(path, u64::MAX - 1, "the file") else { return false };
    let mut head = vec![0u8; magic.len()];
    reader.read_exact(&mut head).is_ok() && head == magic
}

/// Writes `bytes` to `dest` through a temp file in the same folder and a rename, after
/// [`check_destination`]: never over a device, FIFO, symlink or folder, never over a file
/// the policy does not let this command replace.
pub fn write_atomic(dest: &Path, bytes: &[u8], policy: WritePolicy<'_>) -> Result<(), FsError> {
    write_atomic_with(dest, policy, |file| file.write_all(bytes))
}

/// [`write_atomic`] for content written as a stream (a tarball): `fill` writes into the temp file.
pub fn write_atomic_with(
    dest: &Path,
    policy: WritePolicy<'_>,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), FsError> {
    check_destination(dest, policy)?;
    let folder = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (temp_path, mut file) = create_temp(folder, &name)?;
    let write_err = |source| FsError::Write { path: dest.to_path_buf(), source };
    let written = fill(&mut file)
        .and_then(|()| file.sync_all())
        .map_err(write_err)
        // Checked again right before the rename: what was a regular file may have become a link.
        .and_then(|()| check_destination(dest, policy))
        .and_then(|()| std::fs::rename(&temp_path, dest).map_err(write_err));
    if written.is_err() {
        // Our own half-written temp file; if it cannot be removed the error above still says why.
        let _ = std::fs::remove_file(&temp_path);
    }
    written
}

/// A new file `.<name>.<pid>.<n>.tmp` in `folder`, created exclusively (never an existing path).
fn create_temp(folder: &Path, name: &str) -> Result<(PathBuf, File), FsError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let short: String = name.chars().take(100).collect();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = folder.join(format!(".{short}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1_000_000 => continue,
            Err(source) => return Err(FsError::Write { path: folder.to_path_buf(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        for bad in ["", ".", "..", "a/b", "a\\b", "-rf", "a\0b", &"x".repeat(101)] {
            assert!(!is_safe_component(bad), "{bad:?}");
            assert!(is_safe_component(&safe_component(bad)), "{bad:?} -> {:?}", safe_component(bad));
        }
        assert_eq!(safe_component("smoke.v2"), "smoke.v2");
        assert_eq!(safe_component("../../../x/escaped"), ".._.._.._x_escaped");
    }

    #[test]
    fn paths_in_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SUMMARY_FILE), b"{}").unwrap();
        assert!(resolve_in_run(dir.path(), "s/a_stats.csv").is_ok());
        for bad in ["/etc/passwd", "../../x", "s/../../x", ""] {
            let e = resolve_in_run(dir.path(), bad).unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
        std::os::unix::fs::symlink("/etc", dir.path().join("out")).unwrap();
        assert!(resolve_in_run(dir.path(), "out/passwd").is_err());
    }

    #[test]
    fn caps_and_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 2048]).unwrap();
        let e = read_capped(&big, 1024, "the test file").unwrap_err().to_string();
        assert!(e.contains("1 kB") && e.contains("big"), "{e}");
        assert_eq!(read_capped(&big, 4096, "x").unwrap().len(), 2048);
        let e = read_capped(dir.path(), 4096, "x").unwrap_err().to_string();
        assert!(e.contains("a folder"), "{e}");
        let e = read_capped(Path::new("/dev/zero"), 4096, "x").unwrap_err().to_string();
        assert!(e.contains("a device"), "{e}");
    }

    #[test]
    fn writes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.bin");
        write_atomic(&out, b"one", WritePolicy::UserNamed { force: false, ours: None }).unwrap();
        assert!(write_atomic(&out, b"two", WritePolicy::UserNamed { force: false, ours: None }).is_err());
        write_atomic(&out, b"two", WritePolicy::UserNamed { force: true, ours: None }).unwrap();
        write_atomic(&out, b"onw", WritePolicy::UserNamed { force: false, ours: Some(b"tw") }).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"onw");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join(SUMMARY_FILE), b"{}").unwrap();
        let e =
            write_atomic(&run.join(SUMMARY_FILE), b"x", WritePolicy::UserNamed { force: true, ours: None });
        assert!(e.is_err());
        assert_eq!(std::fs::read(run.join(SUMMARY_FILE)).unwrap(), b"{}");
        std::os::unix::fs::symlink(dir.path(), run.join("charts")).unwrap();
        let e = write_atomic(&run.join("charts/a.png"), b"x", WritePolicy::Regenerate { root: &run });
        assert!(e.is_err());
        assert!(!dir.path().join("a.png").exists());
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        assert!(write_atomic(&link, b"x", WritePolicy::UserNamed { force: true, ours: None }).is_err());
    }
}
