//! `terrafix-tui health [URL]`: one GET, exit 0 when it answers 2xx, 1 when it does not
//! (connection refused, timeout, another status), 2 when the URL or timeout is unusable.
//! This is the HEALTHCHECK of the images the tool builds: `FROM scratch` has no curl.
//! For https, `--ca-cert FILE` and `--insecure` work as they do for `run`; a failure says
//! what failed (the certificate, a refused connection, a timeout).

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::HealthArgs;
use crate::engine::tls::{ClientTls, TlsTrust};
use crate::experiment::ControlClient;
use crate::experiment::target::{redacted_text, take_credentials};
use crate::profile::Secret;

use super::UsageError;

pub async fn main(args: HealthArgs) -> anyhow::Result<ExitCode> {
    let (url, auth) = parse_url(&args.url)?;
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(UsageError(format!(
            "--timeout {}: expected seconds above 0, at most 3600",
            args.timeout
        ))
        .into());
    }
    let trust = match (&args.ca_cert, args.insecure) {
        (_, true) => TlsTrust::Insecure,
        (Some(path), false) => TlsTrust::WithCa(path.clone()),
        (None, false) => TlsTrust::PublicRoots,
    };
    let tls = ClientTls::new(trust, false).map_err(|e| UsageError(e.to_string()))?;
    match ControlClient::probe(&url, auth.as_ref(), Duration::from_secs_f64(args.timeout), &tls).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(why) => {
            eprintln!("unhealthy: {why}");
            Ok(ExitCode::from(1))
        }
    }
}

/// An http(s) URL; one without a path (`http://127.0.0.1:8081`) means its `/health`. Its
/// `user:password@` is taken out and returned as an `Authorization: Basic` value (as for
/// `run --target`), so the URL that is requested and shown holds no credential; errors
/// quote the URL with `***` for the password.
fn parse_url(text: &str) -> Result<(url::Url, Option<Secret>), UsageError> {
    let shown = redacted_text(text.trim());
    let mut url = url::Url::parse(text.trim())
        .map_err(|e| UsageError(format!("{shown:?} is not a URL ({e}); try http://127.0.0.1:8081/health")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(UsageError(format!("{shown:?}: expected an http:// or https:// URL with a host")));
    }
    if url.path() == "/" && !text.trim().ends_with('/') {
        url.set_path("/health");
    }
    let auth = take_credentials(&mut url);
    Ok((url, auth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_means_its_health_path() {
        assert_eq!(parse_url("http://127.0.0.1:8081").unwrap().0.as_str(), "http://127.0.0.1:8081/health");
        assert_eq!(parse_url("http://127.0.0.1:8081/").unwrap().0.as_str(), "http://127.0.0.1:8081/");
        assert_eq!(parse_url("http://h:1/_localstack/health").unwrap().0.path(), "/_localstack/health");
        assert!(parse_url("ftp://h/").is_err());
        assert!(parse_url("not a url").is_err());
    }
}
