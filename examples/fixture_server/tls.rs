//! A test CA of the server's own and a certificate it signs for every host
//! the server listens on, so that clients verify TLS as they would on the
//! web — given the CA (`--cacert ca.pem` for scrape and curl,
//! `--ca-certificate` for wget2).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Generates the CA, writes it to `dir/ca.pem`, and returns a server
/// configuration with a certificate for `hosts` (ALPN: h2, then HTTP/1.1,
/// as real servers offer them).
pub fn server_config(dir: &Path, hosts: &[IpAddr]) -> Result<Arc<rustls::ServerConfig>, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    let ca_key = KeyPair::generate().map_err(|e| fail("CA key", &e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", &e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "scrape fixture CA");
    let ca = ca_params.self_signed(&ca_key).map_err(|e| fail("CA", &e))?;
    std::fs::write(dir.join("ca.pem"), ca.pem()).map_err(|e| fail("writing ca.pem", &e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let names: Vec<String> = hosts.iter().map(IpAddr::to_string).collect();
    let leaf_key = KeyPair::generate().map_err(|e| fail("key", &e))?;
    let mut params = CertificateParams::new(names).map_err(|e| fail("certificate", &e))?;
    params.use_authority_key_identifier_extension = true;
    let leaf = params
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| fail("certificate", &e))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .map_err(|e| fail("TLS configuration", &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
