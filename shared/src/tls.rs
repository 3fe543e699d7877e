//! What the kiosk and the board trust when they reach the server over https/wss: the
//! system's certificate authorities (Debian's `ca-certificates`), plus an optional CA file
//! for a hall whose server has a certificate from its own, private CA.
//!
//! One rustls configuration (the `ring` provider) serves both the HTTP client and the
//! WebSocket, so the two can never disagree about whom to trust.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The settings [`client_config`] makes (rustls's), for the WebSocket connector.
pub use rustls::ClientConfig;

/// The client's TLS settings: the system's roots plus every certificate in `ca_file` (PEM).
/// Fails when `ca_file` cannot be read or holds no certificate, or when there is no root at
/// all to trust.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(system.certs);
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("reading the CA file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("no certificate in the CA file {}", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("the CA file {}: {e}", path.display()))?;
        }
    } else if added == 0 {
        return Err(
            "no trusted certificate authorities: install ca-certificates or give a CA file".into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
