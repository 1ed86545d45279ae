//! One shareable file per run: `<run-id>.tar.gz` holding the run folder as it is on disk
//! (HTML reports, CSVs, summary, hlogs, charts), every path under `<run-id>/`.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::ReportError;

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

/// Packs every regular file under `run_dir` (sorted, so two bundles of one folder list
/// the same order) into `out`, through a temp file and a rename.
pub fn bundle(run_dir: &Path, out: &Path) -> Result<PathBuf, ReportError> {
    if !run_dir.is_dir() {
        return Err(ReportError::NotAFolder { path: run_dir.to_path_buf() });
    }
    let files = list_files(run_dir, out)?;
    if files.is_empty() {
        return Err(ReportError::NothingToRender { dir: run_dir.to_path_buf() });
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| ReportError::OutDir { path: parent.to_path_buf(), source })?;
    }
    let tmp = out.with_extension("gz.tmp");
    let write = |source| ReportError::Write { path: tmp.clone(), source };
    let file = File::create(&tmp).map_err(|source| ReportError::OutDir { path: tmp.clone(), source })?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::best()));
    let id = run_id(run_dir);
    for relative in &files {
        tar.append_path_with_name(run_dir.join(relative), Path::new(&id).join(relative)).map_err(write)?;
    }
    let mut buffered = tar.into_inner().map_err(write)?.finish().map_err(write)?;
    buffered.flush().map_err(write)?;
    drop(buffered);
    std::fs::rename(&tmp, out).map_err(|source| ReportError::Write { path: out.to_path_buf(), source })?;
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
