//! The client's TLS configuration, and `--cacert`: what a server's
//! certificate must be to be trusted.
//!
//! Every client is built with this configuration (rather than reqwest's
//! own, which is the same: TLS 1.2 and 1.3 with ring, the bundled and the
//! system's roots) so that its session store can time handshakes
//! (`timing.rs`). `--insecure` accepts any certificate, as reqwest's own
//! `danger_accept_invalid_certs` does.
//!
//! Chains verify as always (webpki), against the bundled roots, the
//! system's (`SSL_CERT_FILE`, `SSL_CERT_DIR`) and the certificates of
//! `--cacert`. Beside that, as `curl --cacert` does, a server whose own
//! certificate is *listed* in `--cacert` — byte for byte — is trusted for
//! the names in it: the everyday self-signed certificate of `openssl req
//! -x509` is marked a CA, and webpki refuses a CA certificate used as a
//! server's ("CaUsedAsEndEntity") even when it is a trust anchor. The name
//! asked for must still be one of the certificate's, and the handshake's
//! signatures are verified as for any server.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The TLS configuration of a client that trusts `listed` beside the
/// usual roots (or, `insecure`, any certificate).
pub fn client_config(
    listed: &[CertificateDer<'static>],
    insecure: bool,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match insecure {
        true => Arc::new(AnyCertificate(Arc::clone(&provider))),
        false => verifier(listed, Arc::clone(&provider))?,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// Webpki against the bundled, the system's and the `listed` roots, and
/// a certificate listed exactly.
fn verifier(
    listed: &[CertificateDer<'static>],
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // Unreadable system certificates are skipped, as reqwest does.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    roots.add_parsable_certificates(listed.iter().cloned());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
    Ok(Arc::new(ListedOrVerified {
        listed: listed.to_vec(),
        inner,
    }))
}

/// `--insecure` (and `--tls`'s own handshakes, which only look): every
/// certificate, for any name, is accepted; the handshake's signatures are
/// not checked either (nothing is trusted).
#[derive(Debug)]
pub(super) struct AnyCertificate(pub(super) Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A server certificate listed exactly, or a chain webpki verifies.
#[derive(Debug)]
struct ListedOrVerified {
    listed: Vec<CertificateDer<'static>>,
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ListedOrVerified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .listed
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            let parsed = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
