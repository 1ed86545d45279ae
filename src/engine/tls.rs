//! TLS for https targets (rustls with the ring provider, no OpenSSL). Trust comes from
//! webpki-roots, Mozilla's roots compiled into the binary: the API image the tool builds
//! is FROM scratch with no CA bundle, and the same roots on every machine mean a run
//! trusts the same servers wherever it starts. A private CA is added with `--ca-cert`;
//! `--insecure` turns verification off (and the run says so everywhere). A server whose
//! own certificate is in the `--ca-cert` file is trusted as that server (pinned), as curl
//! does: self-signed certificates made by `openssl req -x509` are marked as CAs, which
//! WebPKI refuses at the end of a chain. rustls types stay in this file and `mock::tls`.

#![deny(missing_docs)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How the client checks a server's certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TlsTrust {
    /// Mozilla's roots only.
    #[default]
    PublicRoots,
    /// Mozilla's roots plus the CA certificates of a PEM file.
    WithCa(PathBuf),
    /// No verification at all (self-signed test servers): reported in every output.
    Insecure,
}

/// A built client configuration, cheap to clone.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    /// How certificates are checked (as given; reported in the summary's `connection.tls`).
    pub trust: TlsTrust,
    /// The servers trusted because their own certificate is in the `--ca-cert` file.
    pinned: Arc<Mutex<BTreeSet<String>>>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").field("trust", &self.trust).finish()
    }
}

/// Why the client's TLS could not be set up; each message names the `--ca-cert` file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--ca-cert {path}: cannot read it: {reason}; give a readable PEM file of the CA certificate")]
    /// The `--ca-cert` file could not be read.
    Unreadable {
        /// The file as given.
        path: String,
        /// The read error.
        reason: String,
    },
    #[error("--ca-cert {path}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)")]
    /// The file holds no PEM certificate.
    NoCertificate {
        /// The file as given.
        path: String,
    },
    #[error("--ca-cert {path}: a certificate in it is not usable: {reason}")]
    /// A certificate in the file was refused as a trust anchor.
    BadCertificate {
        /// The file as given.
        path: String,
        /// Why rustls refused it.
        reason: String,
    },
    /// rustls refused the configuration; the text is its reason.
    #[error("TLS setup failed: {0}")]
    Setup(String),
}

/// Makes ring the process's default rustls provider (once; later calls do nothing). reqwest
/// builds its TLS connector from the default provider even for http-only clients.
pub fn install_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first: that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl ClientTls {
    /// TLS 1.2 and 1.3, ALPN `http/1.1` (and `h2` first when `http2`).
    pub fn new(trust: TlsTrust, http2: bool) -> Result<ClientTls, TlsError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Setup(e.to_string()))?;
        let pinned = Arc::new(Mutex::new(BTreeSet::new()));
        let mut config = match &trust {
            TlsTrust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider())))
                .with_no_client_auth(),
            TlsTrust::PublicRoots => builder.with_root_certificates(public_roots()).with_no_client_auth(),
            TlsTrust::WithCa(path) => {
                let mut roots = public_roots();
                let file_certs = read_ca(path)?;
                for cert in &file_certs {
                    roots.add(cert.clone()).map_err(|e| TlsError::BadCertificate {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                }
                let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                    .build()
                    .map_err(|e| TlsError::Setup(e.to_string()))?;
                let verifier = PinningVerifier { webpki, file_certs, pinned: pinned.clone() };
                builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
            }
        };
        config.alpn_protocols =
            if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
        Ok(ClientTls { config: Arc::new(config), trust, pinned })
    }

    /// A connector for the engine's own HTTP/1.1 and h2 connections.
    pub fn connector(&self) -> tokio_rustls::TlsConnector {
        tokio_rustls::TlsConnector::from(self.config.clone())
    }

    /// The same settings for the control client (reqwest takes a rustls config).
    pub fn rustls_config(&self) -> ClientConfig {
        (*self.config).clone()
    }

    /// True with `--insecure`: certificates are not checked.
    pub fn is_insecure(&self) -> bool {
        self.trust == TlsTrust::Insecure
    }

    /// The server names trusted so far because their own certificate is in the `--ca-cert`
    /// file rather than signed by a CA in it (pinned), for the run to say so.
    pub fn pinned_servers(&self) -> Vec<String> {
        self.pinned.lock().map(|set| set.iter().cloned().collect()).unwrap_or_default()
    }
}

/// The server name to send (SNI) and check the certificate against.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
        .map_err(|e| format!("{host} is not a valid TLS server name: {e}"))
}

fn public_roots() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let bytes = crate::fsio::read_capped(path, crate::fsio::PEM_CAP, "--ca-cert")
        .map_err(|e| TlsError::Unreadable { path: shown.clone(), reason: e.reason() })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::BadCertificate { path: shown.clone(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: shown });
    }
    Ok(certs)
}

/// Turns a handshake error into what failed and which flag fixes it.
pub fn explain_handshake_error(err: &std::io::Error, host: &str) -> String {
    match err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(tls) => explain_tls_error(tls, host),
        None => format!("TLS handshake with {host} failed: {err}"),
    }
}

/// The words for a TLS failure met in an error's chain: a rustls error, or one carried by
/// I/O errors (hyper-rustls wraps tokio-rustls's I/O error in another, and `source()` of an
/// I/O error skips what it carries). None when `cause` is not about TLS.
pub fn explain_tls_cause(cause: &(dyn std::error::Error + 'static), host: &str) -> Option<String> {
    rustls_error_in(cause).map(|tls| explain_tls_error(tls, host))
}

fn rustls_error_in<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    rustls_error_in(cause.downcast_ref::<std::io::Error>()?.get_ref()?)
}

/// What a refused handshake means, and which flag or change fixes it.
pub fn explain_tls_error(err: &rustls::Error, host: &str) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            rustls::CertificateError::UnknownIssuer => format!(
                "the certificate of {host} is signed by an unknown issuer; trust its CA with --ca-cert FILE (or skip checks with --insecure)"
            ),
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => format!(
                "the certificate of {host} has expired; renew it on the server (or skip checks with --insecure)"
            ),
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. } => format!(
                "the certificate of {host} is not valid for that name; use the name it was issued for in the URL (or skip checks with --insecure)"
            ),
            other if is_ca_used_as_end_entity(other) => format!(
                "the server's certificate ({host}) is marked as a CA (basicConstraints CA:TRUE), which a server's own certificate must not be; make a leaf certificate signed by it and serve that, or put the server's own certificate in the --ca-cert file to pin it (or skip checks with --insecure)"
            ),
            other => format!(
                "the certificate of {host} was refused ({other}); fix it, trust its CA with --ca-cert FILE, or skip checks with --insecure"
            ),
        },
        rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => format!(
            "{host} accepts none of the protocols offered in the TLS handshake (ALPN); a server that speaks only HTTP/2 needs --http2"
        ),
        other => format!("TLS handshake with {host} failed: {other}"),
    }
}

/// WebPKI's "CA used as end entity" reaches us as rustls's opaque `Other` error holding a
/// `webpki::Error`, a crate we do not depend on directly: its variant name is the only handle.
fn is_ca_used_as_end_entity(err: &rustls::CertificateError) -> bool {
    matches!(err, rustls::CertificateError::Other(_)) && format!("{err:?}").contains("CaUsedAsEndEntity")
}

/// `--ca-cert`: the WebPKI check against Mozilla's roots and the file's certificates; when
/// it refuses, a server certificate that is itself in the file (byte for byte) and valid for
/// the name asked for is trusted as pinned, the way curl's `--cacert` trusts a self-signed
/// certificate. The handshake signatures are checked as always, so the server must hold the
/// certificate's key.
#[derive(Debug)]
struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    file_certs: Vec<CertificateDer<'static>>,
    pinned: Arc<Mutex<BTreeSet<String>>>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refused) => refused,
        };
        if !self.file_certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            return Err(refused);
        }
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        if let Ok(mut pinned) = self.pinned.lock() {
            pinned.insert(server_name.to_str().into_owned());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `--insecure`: every certificate is accepted, signatures are still checked for form.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
