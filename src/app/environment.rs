//! Settings that come from outside the command line: the process environment, a `.env`
//! file in the working directory (dotenvy), and the seed harness's names for our variables.
//! Precedence everywhere: flag > environment > `.env` > default.

use std::ffi::OsString;

/// The seed's names (its `.env.localstack.example`, scripts and guide) → ours.
pub const ALIASES: [(&str, &str); 2] =
    [("MOCK_LATENCY_MS", "TERRAFIX_MOCK_LATENCY_MS"), ("MOCK_FAILURE_RATE", "TERRAFIX_MOCK_FAILURE_RATE")];

/// Variables read through clap's `env`: an empty value means unset (as `os.getenv(X) or
/// default` does in the seed), where clap would take it as a value and refuse it.
const EMPTY_MEANS_UNSET: [&str; 8] = [
    "TERRAFIX_API_HOST",
    "TERRAFIX_OUTPUT_DIR",
    "TERRAFIX_API_PORT",
    "TERRAFIX_MOCK_LATENCY_MS",
    "TERRAFIX_MOCK_FAILURE_RATE",
    "REDIS_URL",
    "TERRAFIX_REPO_SIZE",
    "TERRAFIX_LOCALSTACK_IMAGE",
];

/// Reads `./.env` into the environment (never over a variable already set) and maps the
/// seed's names onto ours. Returns warnings to print (a `.env` that does not parse).
///
/// Must run first thing in `main`, before any thread exists: it sets variables.
pub fn prepare() -> Vec<String> {
    let mut warnings = Vec::new();
    // An empty variable in the shell must not hide the value `.env` gives it.
    drop_empty();
    // Aliases of the real environment first, so that a seed name set in the shell beats our
    // name set only in `.env` (environment > `.env`, whichever name each uses).
    apply_aliases();
    // Only the working directory's `.env` (`dotenvy::dotenv` would also search the parents).
    load_dotenv(std::path::Path::new(DOTENV_FILE), &mut warnings);
    apply_aliases();
    drop_empty();
    warnings
}

const DOTENV_FILE: &str = ".env";

/// Reads `path` (capped, a regular file) and sets each variable it gives that is not set
/// yet. A line that does not parse is skipped with a warning naming the file, the line and
/// the variable (when one can be told), never the value: `.env` holds tokens.
fn load_dotenv(path: &std::path::Path, warnings: &mut Vec<String>) {
    let bytes = match crate::fsio::read_capped(path, crate::fsio::ENV_FILE_CAP, "the .env file") {
        Ok(bytes) => bytes,
        Err(crate::fsio::FsError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return;
        }
        Err(e) => {
            warnings.push(format!("ignoring .env: {e}"));
            return;
        }
    };
    let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).into_owned();
    for entry in dotenvy::from_read_iter(text.as_bytes()) {
        match entry {
            Ok((name, value)) => {
                if std::env::var_os(&name).is_none() {
                    set(&name, value.into());
                }
            }
            Err(e) => warnings.push(parse_warning(path, &text, &e)),
        }
    }
}

/// `.env:3: the line of AUTH_TOKEN does not parse (…); it is skipped`: where, never what.
fn parse_warning(path: &std::path::Path, text: &str, error: &dotenvy::Error) -> String {
    let shown = path.display();
    let dotenvy::Error::LineParse(line, _) = error else {
        return format!("{shown}: cannot read it ({}); the rest of it is skipped", error_kind(error));
    };
    // The error carries the offending text itself; its place in the file gives the line.
    let line_no = text.find(line.as_str()).map_or(0, |at| text[..at].matches('\n').count() + 1);
    let first = line.lines().next().unwrap_or("");
    let name = first
        .trim_start()
        .strip_prefix("export ")
        .unwrap_or(first.trim_start())
        .split_once('=')
        .map(|(name, _)| name.trim())
        .filter(|n| {
            n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        });
    let what = match name {
        Some(name) => format!("the line of {name} does not parse"),
        None => "this line is not NAME=value".to_string(),
    };
    let quote = if line.lines().nth(1).is_some() { " (an unclosed quote?)" } else { "" };
    format!("{shown}:{line_no}: {what}{quote}; it is skipped (its value is not shown)")
}

fn error_kind(error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::Io(e) => e.kind().to_string(),
        _ => "not a .env file".to_string(),
    }
}

fn drop_empty() {
    for name in EMPTY_MEANS_UNSET {
        if std::env::var_os(name).is_some_and(|v| v.is_empty()) {
            // SAFETY: as in `set`, no other thread exists yet.
            unsafe { std::env::remove_var(name) };
        }
    }
}

fn apply_aliases() {
    for (seed, ours) in ALIASES {
        if std::env::var_os(ours).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        if let Some(value) = std::env::var_os(seed).filter(|v| !v.is_empty()) {
            set(ours, value);
        }
    }
}

fn set(name: &str, value: OsString) {
    // SAFETY: `prepare` runs at the start of `main`, before the runtime or any other thread
    // exists, so nothing can read the environment concurrently.
    unsafe { std::env::set_var(name, value) };
}

/// The log filter: `RUST_LOG` when set, else the seed's `LOG_LEVEL` (`DEBUG`, `INFO`,
/// `WARNING`, `ERROR`, `CRITICAL`, any case) for our own code with the HTTP and Docker
/// libraries kept at warn, else `default`.
pub fn log_filter(default: &str) -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    if std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty())
        && let Ok(filter) = EnvFilter::try_from_default_env()
    {
        return filter;
    }
    if let Some(level) = std::env::var("LOG_LEVEL").ok().as_deref().and_then(seed_level) {
        return EnvFilter::new(format!("{level},hyper=warn,bollard=warn,reqwest=warn,rustls=warn"));
    }
    EnvFilter::new(default)
}

/// Python's logging level names as tracing's.
fn seed_level(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().as_str() {
        "trace" => Some("trace"),
        "debug" => Some("debug"),
        "info" => Some("info"),
        "warn" | "warning" => Some("warn"),
        "error" | "critical" | "fatal" => Some("error"),
        "off" | "none" => Some("off"),
        _ => None,
    }
}

/// The variables of a `.env` file's bytes, in file order (the first of a repeated name wins,
/// as when dotenvy loads them), and a warning where it stops parsing: the line number and,
/// when it can be told, the variable's name, never the line itself (it may hold a secret).
/// Pure: it reads nothing but `bytes` and sets nothing; the caller weighs it against the
/// environment.
pub fn parse_env(bytes: &[u8]) -> (Vec<(String, String)>, Vec<String>) {
    // dotenvy skips a UTF-8 byte-order mark when it loads a file; its iterator does not.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines = LineByLine { rest: bytes, newlines: 0, ended_open: false };
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut warnings = Vec::new();
    let mut iter = dotenvy::from_read_iter(&mut lines);
    while let Some(item) = iter.next() {
        match item {
            Ok((name, value)) => {
                if !vars.iter().any(|(known, _)| *known == name) {
                    vars.push((name, value));
                }
            }
            Err(e) => {
                drop(iter);
                // Lines handed to the parser so far, so the last one is where it failed.
                let last = lines.newlines + usize::from(lines.ended_open);
                let (first, what) = match &e {
                    dotenvy::Error::LineParse(text, _) => {
                        let text = text.strip_suffix('\n').unwrap_or(text);
                        let first = last.saturating_sub(text.matches('\n').count()).max(1);
                        let name = text
                            .split_once('=')
                            .map(|(name, _)| name.trim().trim_start_matches("export ").trim())
                            .filter(|n| {
                                !n.is_empty()
                                    && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                            });
                        (
                            first,
                            name.map_or("it is not NAME=value".to_string(), |n| {
                                format!("the value of {n} does not parse")
                            }),
                        )
                    }
                    _ => (last.max(1), "it is not UTF-8 text".to_string()),
                };
                warnings.push(format!(
                    "ignoring .env from line {first} on: {what} (the line is not shown, it may hold a secret)"
                ));
                break;
            }
        }
    }
    (vars, warnings)
}

/// Hands out one line per read, so the bytes read so far end where the parser is.
struct LineByLine<'a> {
    rest: &'a [u8],
    newlines: usize,
    /// The last piece handed out had no newline (the file's last line).
    ended_open: bool,
}

impl std::io::Read for LineByLine<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let line = self.rest.iter().position(|&b| b == b'\n').map_or(self.rest.len(), |at| at + 1);
        let n = line.min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        if n > 0 {
            self.ended_open = buf[n - 1] != b'\n';
            self.newlines += usize::from(!self.ended_open);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_level_names() {
        assert_eq!(seed_level("INFO"), Some("info"));
        assert_eq!(seed_level("WARNING"), Some("warn"));
        assert_eq!(seed_level("Critical"), Some("error"));
        assert_eq!(seed_level("chatty"), None);
    }
}
