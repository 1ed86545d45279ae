//! One shareable file per run: `<run-id>.tar.gz` holding the run folder as it is on disk
//! (HTML reports, CSVs, summary, hlogs, charts), every path under `<run-id>/`.

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::ReportError;
use crate::fsio::{self, WritePolicy};

/// The run's id: the run folder's own name (`<yyyymmdd-HHMMSS>-<profile>`).
pub fn run_id(run_dir: &Path) -> String {
    run_dir
        .canonicalize()
        .ok()
        .as_deref()
        .and_then(Path::file_name)
        .or_else(|| run_dir.file_name())
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned())
}

/// The default bundle path: `<dir>/<run-id>.tar.gz`.
pub fn default_bundle_path(run_dir: &Path, dir: &Path) -> PathBuf {
    dir.join(format!("{}.tar.gz", run_id(run_dir)))
}

/// A gzip file's first two bytes: an existing `.tar.gz` the TUI may re-pack over.
pub const GZIP_MAGIC: &[u8] = b"\x1f\x8b";

/// Packs every regular file under `run_dir` (sorted, so two bundles of one folder list
/// the same order) into `out`, through a temp file and a rename in `out`'s folder. `policy`
/// says whether an existing file at `out` may be replaced (never a device, a symlink or a
/// file of a run folder: see [`crate::fsio::write_atomic`]).
pub fn bundle(run_dir: &Path, out: &Path, policy: WritePolicy<'_>) -> Result<PathBuf, ReportError> {
    if !run_dir.is_dir() {
        return Err(ReportError::NotAFolder { path: run_dir.to_path_buf() });
    }
    // Refused before anything is listed or packed: a bad --out costs nothing.
    fsio::check_destination(out, policy)?;
    let files = list_files(run_dir, out)?;
    if files.is_empty() {
        return Err(ReportError::NothingToRender { dir: run_dir.to_path_buf() });
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| ReportError::OutDir { path: parent.to_path_buf(), source })?;
    }
    let id = run_id(run_dir);
    fsio::write_atomic_with(out, policy, |file| {
        let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::best()));
        for relative in &files {
            tar.append_path_with_name(run_dir.join(relative), Path::new(&id).join(relative))?;
        }
        let mut buffered = tar.into_inner()?.finish()?;
        buffered.flush()
    })?;
    Ok(out.to_path_buf())
}

/// Regular files under `dir`, relative to it, sorted; leaves out `skip` (a bundle being
/// written inside the run folder must not pack itself) and half-written `*.tmp` files.
fn list_files(dir: &Path, skip: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let skip = skip.canonicalize().ok();
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let here = dir.join(&relative);
        let read = |source| ReportError::Read { path: here.clone(), source };
        for entry in std::fs::read_dir(&here).map_err(read)? {
            let entry = entry.map_err(read)?;
            let kind = entry.file_type().map_err(read)?;
            let path = relative.join(entry.file_name());
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file()
                && path.extension().is_none_or(|e| e != "tmp")
                && (skip.is_none() || entry.path().canonicalize().ok() != skip)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
