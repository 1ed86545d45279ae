//! Offline image builds: an image assembled in memory from host executables and the shared
//! libraries `ldd` lists (`FROM scratch`), sent as a tar to the Engine's build API.
//! Imports bollard, tar, sha2 and std; knows nothing of services beyond what it is given.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use bollard::Docker;
use bollard::query_parameters::BuildImageOptions;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::DockerError;

/// What to put in a scratch image.
#[derive(Clone)]
pub struct ScratchImage {
    pub tag: String,
    /// Host executables and where they go in the image (`/usr/bin/redis-server`).
    pub executables: Vec<(PathBuf, String)>,
    /// Extra Dockerfile instructions after `COPY rootfs/ /` (ENTRYPOINT, CMD, EXPOSE).
    pub dockerfile_tail: String,
    pub labels: HashMap<String, String>,
    /// Empty directories to create (`/tmp`, `/data`).
    pub directories: Vec<String>,
    /// Said in the build error: how to get this image another way.
    pub remedy: String,
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, DockerError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| DockerError::io(format!("reading executable {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| DockerError::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The shared libraries and dynamic loader `ldd` lists for `exe` (none if static).
pub fn shared_libraries(exe: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("ldd")
        .arg(exe)
        .output()
        .map_err(|e| format!("cannot run `ldd {}` ({e}); install libc-bin", exe.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if text.contains("not a dynamic executable") || stderr.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(format!("`ldd {}` failed: {}", exe.display(), stderr.trim()));
    }
    parse_ldd(&text)
}

fn parse_ldd(text: &str) -> Result<Vec<PathBuf>, String> {
    let mut libs = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.contains("statically linked") {
            continue;
        }
        if line.contains("=> not found") {
            return Err(format!("a shared library is missing on this host: {line}"));
        }
        // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`
        let target = line.split_once("=>").map_or(line, |(_, t)| t).trim();
        let path = target.split_whitespace().next().unwrap_or_default();
        if path.starts_with('/') {
            libs.push(PathBuf::from(path));
        }
    }
    Ok(libs)
}

/// The in-memory build context: `Dockerfile` plus `rootfs/` holding every file at its path.
pub fn build_context(image: &ScratchImage) -> Result<Vec<u8>, String> {
    // Destination path → host source; a BTreeMap de-duplicates libraries shared by executables.
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (host, dest) in &image.executables {
        files.insert(dest.trim_start_matches('/').to_string(), host.clone());
        for lib in shared_libraries(host)? {
            let dest = lib.to_string_lossy().trim_start_matches('/').to_string();
            files.insert(dest, lib);
        }
    }
    let dockerfile = format!("FROM scratch\nCOPY rootfs/ /\n{}\n", image.dockerfile_tail);
    let mut tar = tar::Builder::new(Vec::new());
    append_bytes(&mut tar, "Dockerfile", dockerfile.as_bytes(), 0o644)?;
    // glibc resolves `redis` (the network alias) through files then DNS.
    append_bytes(&mut tar, "rootfs/etc/nsswitch.conf", b"hosts: files dns\n", 0o644)?;
    for dir in &image.directories {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o1777);
        header.set_size(0);
        let path = format!("rootfs/{}/", dir.trim_matches('/'));
        tar.append_data(&mut header, &path, std::io::empty()).map_err(|e| format!("adding {path}: {e}"))?;
    }
    for (dest, host) in &files {
        // Reading through symlinks stores the real file under the name the loader asks for.
        let bytes = std::fs::read(host).map_err(|e| format!("reading {}: {e}", host.display()))?;
        append_bytes(&mut tar, &format!("rootfs/{dest}"), &bytes, 0o755)?;
    }
    tar.into_inner().map_err(|e| format!("finishing the build context: {e}"))
}

fn append_bytes(tar: &mut tar::Builder<Vec<u8>>, path: &str, bytes: &[u8], mode: u32) -> Result<(), String> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, bytes).map_err(|e| format!("adding {path} to the build context: {e}"))
}

/// Builds `image` through the Engine's build API; build steps go to `progress`.
pub async fn build_scratch_image(
    docker: &Docker,
    image: &ScratchImage,
    progress: &mpsc::Sender<String>,
) -> Result<(), DockerError> {
    let failed = |detail: String| DockerError::ImageBuild {
        image: image.tag.clone(),
        detail,
        remedy: image.remedy.clone(),
    };
    // Reading the executables, running `ldd` and packing the tar are blocking work.
    let context = {
        let image = image.clone();
        tokio::task::spawn_blocking(move || build_context(&image))
            .await
            .map_err(|e| failed(format!("packing the build context failed: {e}")))?
            .map_err(failed)?
    };
    // a progress line is for the user's eyes only: the outcome travels in the return value
    let _ = progress.try_send(format!(
        "building {} ({:.1} MB context, FROM scratch)",
        image.tag,
        context.len() as f64 / 1e6
    ));
    let options = BuildImageOptions {
        t: Some(image.tag.clone()),
        rm: true,
        forcerm: true,
        labels: Some(image.labels.clone()),
        ..Default::default()
    };
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| failed(e.to_string()))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            return Err(failed(err.trim().to_string()));
        }
        if let Some(line) = info.stream.as_deref().map(str::trim).filter(|l| l.starts_with("Step")) {
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress.try_send(format!("  {line}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_is_parsed_into_paths() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n";
        let libs = parse_ldd(text).unwrap();
        assert_eq!(
            libs,
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
    }

    #[test]
    fn a_missing_library_is_an_error_naming_it() {
        let err = parse_ldd("\tlibfoo.so.1 => not found\n").unwrap_err();
        assert!(err.contains("libfoo.so.1"), "{err}");
    }

    #[test]
    fn the_context_holds_dockerfile_binary_and_its_libraries() {
        let exe = std::env::current_exe().unwrap();
        let image = ScratchImage {
            tag: "t".into(),
            executables: vec![(exe.clone(), "/usr/local/bin/x".into())],
            dockerfile_tail: "ENTRYPOINT [\"/usr/local/bin/x\"]".into(),
            labels: HashMap::new(),
            directories: vec!["/tmp".into()],
            remedy: String::new(),
        };
        let bytes = build_context(&image).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&"Dockerfile".to_string()));
        assert!(names.contains(&"rootfs/usr/local/bin/x".to_string()));
        for lib in shared_libraries(&exe).unwrap() {
            let want = format!("rootfs{}", lib.display());
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
    }
}
