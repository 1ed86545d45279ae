//! Host ports: checking a port is free before publishing it, and finding which process
//! holds it (from /proc/net/tcp{,6} and /proc/*/fd, as `ss -ltnp` does). Imports std only.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use super::DockerError;

/// Fails with `PortInUse` (naming the holder when found) if 127.0.0.1:`port` cannot be bound.
/// Port 0 lets the engine choose, so there is nothing to check.
pub fn ensure_free(port: u16, service: &str) -> Result<(), DockerError> {
    if port == 0 {
        return Ok(());
    }
    match TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) {
        Ok(listener) => {
            drop(listener);
            Ok(())
        }
        Err(_) => Err(DockerError::PortInUse { port, service: service.to_string(), holder: holder_of(port) }),
    }
}

/// Recognises the engine's own "port is already allocated / address already in use" error.
pub fn port_error(message: &str, port: u16, service: &str) -> Option<DockerError> {
    let taken = message.contains("address already in use") || message.contains("port is already allocated");
    taken.then(|| DockerError::PortInUse { port, service: service.to_string(), holder: holder_of(port) })
}

/// `pid 1234 (docker-proxy)` for the process listening on TCP `port`, if it can be found.
pub fn holder_of(port: u16) -> Option<String> {
    let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| listening_inodes(&text, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let procs = std::fs::read_dir("/proc").ok()?;
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else { continue };
            let link = link.to_string_lossy();
            if inodes.iter().any(|inode| link == format!("socket:[{inode}]")) {
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some(format!("pid {pid} ({})", comm.trim()));
            }
        }
    }
    Some("another process (its owner is not visible to this user)".to_string())
}

/// Socket inodes in LISTEN state (st 0A) on `port` in a /proc/net/tcp table.
fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols.get(1)?.rsplit_once(':')?.1;
            let listening = *cols.get(3)? == "0A";
            (listening && u16::from_str_radix(local_port, 16).ok()? == port)
                .then(|| cols.get(9)?.parse().ok())?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_port_is_reported_with_its_holder() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = ensure_free(port, "redis").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&port.to_string()), "{text}");
        assert!(text.contains(&format!("pid {}", std::process::id())), "{text}");
        drop(listener);
        assert!(ensure_free(port, "redis").is_ok());
    }

    #[test]
    fn proc_table_rows_are_matched_by_port_and_state() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n   1: 0100007F:1F91 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n";
        assert_eq!(listening_inodes(table, 8081), vec![4242]);
        assert!(listening_inodes(table, 8082).is_empty());
    }
}
