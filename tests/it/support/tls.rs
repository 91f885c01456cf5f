//! An HTTPS server with a self-signed certificate (rcgen + rustls), to show
//! that certificates are verified unless `--insecure`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Starts a TLS server on 127.0.0.1:0 whose certificate no one trusts; it
/// answers every request with a small page titled "Secret".
pub fn self_signed_server() -> SocketAddr {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .expect("self-signed certificate");
    serve_self_signed(certified.cert.der().clone(), &certified.signing_key)
}

/// An HTTPS server on 127.0.0.1:0 with the certificate plain `openssl req
/// -x509` makes: self-signed and marked a CA (basicConstraints CA:TRUE),
/// for localhost only (not 127.0.0.1); the certificate is written to
/// `cert.pem` in the returned directory.
pub fn self_signed_ca_server() -> (SocketAddr, tempfile::TempDir) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params
        .self_signed(&key)
        .expect("self-signed CA certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cert.pem"), cert.pem()).expect("cert.pem");
    (serve_self_signed(cert.der().clone(), &key), dir)
}

fn serve_self_signed(
    cert: rustls::pki_types::CertificateDer<'static>,
    signing_key: &rcgen::KeyPair,
) -> SocketAddr {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    serve_tls(vec![cert], key, "Secret", rustls::DEFAULT_VERSIONS)
}

/// An HTTPS server on 127.0.0.1:0 whose certificate a CA of the test's own
/// signed; the CA is written to `ca.pem` in the returned directory. It
/// answers every request with a page titled "Trusted".
pub fn ca_signed_server() -> (SocketAddr, tempfile::TempDir) {
    ca_signed_server_with(None, rustls::DEFAULT_VERSIONS)
}

/// Like `ca_signed_server`, with the leaf's `notAfter` set to `not_after`
/// when given (its SANs are 127.0.0.1 and localhost, its CN "scrape
/// test"), speaking only `versions`.
pub fn ca_signed_server_with(
    not_after: Option<(i32, u8, u8)>,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "scrape test CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write ca.pem");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("params");
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "scrape test");
    if let Some((y, m, d)) = not_after {
        leaf.not_after = rcgen::date_time_ymd(y, m, d);
    }
    let leaf = leaf.signed_by(&leaf_key, &issuer).expect("leaf");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let addr = serve_tls(vec![leaf.der().clone()], key, "Trusted", versions);
    (addr, dir)
}

/// Reads a request's head, byte by byte; false when the stream ends or
/// fails first.
pub fn read_head(stream: &mut impl Read) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// Serves `title` over TLS with this certificate chain.
fn serve_tls(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    title: &'static str,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                if !read_head(&mut tls) {
                    return;
                }
                let body = format!("<title>{title}</title>");
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

/// A server configuration with a self-signed certificate for `names`,
/// offering `alpn` (none: no ALPN).
pub fn self_signed_config(names: Vec<String>, alpn: &[&[u8]]) -> rustls::ServerConfig {
    let certified = rcgen::generate_simple_self_signed(names).expect("certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// An HTTPS server on 127.0.0.1:0 (self-signed) that offers `alpn` (`h2`
/// and `http/1.1`, or `http/1.1` alone) and serves both versions (hyper's
/// auto builder); it counts the TLS connections it accepted. Every page is
/// `<title>HTTP/x</title>`, the version it was asked in.
pub fn alpn_server(alpn: &[&[u8]]) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let config = self_signed_config(vec!["127.0.0.1".to_string()], alpn);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        |req: hyper::Request<hyper::body::Incoming>| async move {
                            let body = format!("<title>{:?}</title>", req.version());
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .header("content-type", "text/html")
                                    .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
                                    .expect("response"),
                            )
                        },
                    );
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
    });
    (rx.recv().expect("the server starts"), connections)
}
