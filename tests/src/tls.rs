//! A test certificate authority and a server certificate it signed, for https tests: the CA's
//! PEM is what clients are told to trust (reqwest, rustls for `wss://`, the kiosk's and the
//! board's `--ca-file`), and [`TestCa::spki_sha256`] lets Chromium trust the server's key.

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use sha2::Digest;

/// The CA and the server certificate (for `localhost` and `127.0.0.1`), written as PEM files.
pub struct TestCa {
    /// The CA certificate, to be trusted by clients.
    pub ca_file: PathBuf,
    /// The server's certificate chain and key, for `--tls-cert` / `--tls-key`.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub ca_pem: String,
    /// SHA-256 of the server key's SubjectPublicKeyInfo, base64 (Chromium's
    /// `--ignore-certificate-errors-spki-list`).
    pub spki_sha256: String,
    _dir: tempfile::TempDir,
}

impl TestCa {
    /// A fresh CA and server certificate in a temporary directory.
    pub fn generate() -> TestCa {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Qhall test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("self-sign the CA");
        let key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = server
            .signed_by(&key, &ca_cert, &ca_key)
            .expect("sign the server certificate");
        let ca_file = dir.path().join("ca.pem");
        let cert_file = dir.path().join("cert.pem");
        let key_file = dir.path().join("key.pem");
        std::fs::write(&ca_file, ca_cert.pem()).expect("write CA");
        std::fs::write(&cert_file, cert.pem()).expect("write cert");
        std::fs::write(&key_file, key.serialize_pem()).expect("write key");
        use base64::Engine as _;
        let spki_sha256 = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(key.public_key_der()));
        TestCa {
            ca_file,
            cert_file,
            key_file,
            ca_pem: ca_cert.pem(),
            spki_sha256,
            _dir: dir,
        }
    }

    /// Sets the server's certificate and key in `config`.
    pub fn configure(&self) -> impl Fn(&mut qhall_server::Config) + Send + Sync + 'static {
        let (cert, key) = (self.cert_file.clone(), self.key_file.clone());
        move |c: &mut qhall_server::Config| {
            c.tls_cert = Some(cert.clone());
            c.tls_key = Some(key.clone());
        }
    }

    /// An HTTP client that trusts this CA (and no other).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("CA pem"),
            )
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client")
    }

    /// rustls settings that trust this CA, for `wss://`.
    pub fn rustls_client(&self) -> Arc<rustls::ClientConfig> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(cert.expect("CA pem")).expect("add CA");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}
