//! Transport security of `jiesu serve`: with `--tls-cert`/`--tls-key` it speaks https, every
//! answer carries HSTS and the session cookie is `Secure`; plain http sends neither (unless
//! `JIESU_PUBLIC_HTTPS=1` says a proxy in front terminates TLS); unusable certificate files are
//! a clear error naming the flag; SIGTERM still drains and exits cleanly over TLS.

#![cfg(unix)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

use common::{PASSWORD, serve};

fn add_admin(db: &str) {
    common::add_user(db, "tlsadmin", "admin", None, &[]);
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("jiesu-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("tmp dir");
        Dir(d)
    }
    fn db(&self) -> String {
        format!("sqlite://{}", self.0.join("t.db").display())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate for 127.0.0.1 (an end-entity one: rustls refuses a CA
/// certificate as a server's). Returns (cert.pem, key.pem).
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let cnf = dir.join("openssl.cnf");
    std::fs::write(
        &cnf,
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n[v3]\n\
         basicConstraints = critical,CA:FALSE\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n\
         keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n",
    )
    .expect("openssl config");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "2", "-extensions", "v3", "-config"])
        .arg(&cnf)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command line tool");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

fn stop(child: Child) -> std::process::ExitStatus {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    wait_exit(child)
}

fn wait_exit(mut child: Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the server did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn client(root: Option<&Path>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        // The login answers 303 with the cookie: look at that answer, not the next page.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20));
    if let Some(pem) = root {
        let pem = std::fs::read(pem).expect("cert");
        b = b
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"));
    }
    b.build().expect("client")
}

/// What a page and a web login answer: (HSTS header of `/login`, the login's Set-Cookie).
async fn page_and_login(c: &reqwest::Client, url: &str) -> (Option<String>, String) {
    let page = c
        .get(format!("{url}/login"))
        .send()
        .await
        .expect("GET /login");
    assert_eq!(page.status(), 200);
    let hsts = page
        .headers()
        .get("strict-transport-security")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let login = c
        .post(format!("{url}/login"))
        .form(&[("username", "tlsadmin"), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(login.status(), 303, "the login did not succeed");
    let cookie = login
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .expect("a session cookie");
    (hsts, cookie)
}

fn secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

#[tokio::test]
async fn https_serve_sends_hsts_and_secure_cookies_and_drains_on_sigterm() {
    let dir = Dir::new("on");
    let (cert, key) = self_signed(&dir.0);
    add_admin(&dir.db());
    let tls = [
        "--tls-cert",
        cert.to_str().expect("path"),
        "--tls-key",
        key.to_str().expect("path"),
    ];
    let (child, url) = serve(&dir.db(), &tls, &[]);
    assert!(url.starts_with("https://"), "{url}");
    let c = client(Some(&cert));
    let (hsts, cookie) = page_and_login(&c, &url).await;
    assert_eq!(hsts.as_deref(), Some("max-age=31536000"));
    assert!(secure(&cookie), "cookie not Secure over TLS: {cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    // Every answer, the JSON API's errors too.
    let api = c
        .get(format!("{url}/api/v1/auth/me"))
        .send()
        .await
        .expect("GET /auth/me");
    assert_eq!(api.status(), 401);
    assert!(api.headers().contains_key("strict-transport-security"));

    // Plain http to the TLS port is not served.
    let plain = url.replacen("https://", "http://", 1);
    let refused = client(None).get(format!("{plain}/healthz")).send().await;
    assert!(
        refused.map_or(true, |r| !r.status().is_success()),
        "plain http answered on the TLS port"
    );

    // A login whose body is still on its way over TLS when SIGTERM comes is answered; then
    // the process exits cleanly.
    let addr = url.trim_start_matches("https://").to_string();
    let mut conn = tls_connect(&addr, &cert).await;
    let body = r#"{"username":"nobody","password":"not-the-password"}"#;
    let (head, tail) = body.split_at(10);
    conn.write_all(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .expect("send head");
    conn.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().to_string();
    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut child = child;
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the TLS server died at SIGTERM with a request in flight"
    );
    conn.write_all(tail.as_bytes())
        .await
        .expect("send the rest");
    conn.flush().await.expect("flush");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the in-flight request was not answered over TLS: {answer:?}"
    );
    drop(conn);
    let status = tokio::task::spawn_blocking(move || wait_exit(child))
        .await
        .expect("wait");
    assert!(status.success(), "exit after SIGTERM over TLS: {status:?}");
}

/// A raw TLS connection trusting only `cert` (to hold a request half-sent).
async fn tls_connect(
    addr: &str,
    cert: &Path,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).expect("cert") {
        roots.add(c.expect("cert")).expect("root");
    }
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("name").to_owned();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
        .connect(name, tcp)
        .await
        .expect("TLS handshake")
}

#[tokio::test]
async fn plain_http_sends_no_hsts_and_no_secure_cookie_unless_the_proxy_side_is_https() {
    let dir = Dir::new("off");
    add_admin(&dir.db());
    let (child, url) = serve(&dir.db(), &[], &[]);
    assert!(url.starts_with("http://"), "{url}");
    let (hsts, cookie) = page_and_login(&client(None), &url).await;
    assert_eq!(hsts, None, "HSTS over plain http");
    assert!(!secure(&cookie), "Secure cookie over plain http: {cookie}");
    assert!(stop(child).success());

    // Behind a proxy that terminates TLS, the deployment says so.
    let (child, url) = serve(&dir.db(), &[], &[("JIESU_PUBLIC_HTTPS", "1")]);
    let (hsts, cookie) = page_and_login(&client(None), &url).await;
    assert_eq!(hsts.as_deref(), Some("max-age=31536000"));
    assert!(
        secure(&cookie),
        "cookie not Secure behind an https proxy: {cookie}"
    );
    assert!(stop(child).success());
}

/// Runs `jiesu serve` expecting it to refuse to start; returns its stderr.
fn refused(db: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = common::serve_command(db, extra, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jiesu serve");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("jiesu serve {extra:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(!status.success(), "{extra:?} exited 0");
    assert!(!err.contains("panicked"), "{extra:?} panicked: {err}");
    err
}

#[test]
fn unusable_certificate_files_are_named_and_refused() {
    let dir = Dir::new("bad");
    let (cert, key) = self_signed(&dir.0);
    let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
    let garbage = dir.0.join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").expect("garbage");
    let garbage = garbage.to_str().expect("path");
    let missing = dir.0.join("missing.pem");
    let missing = missing.to_str().expect("path");
    let db = dir.db();

    let err = refused(&db, &["--tls-cert", missing, "--tls-key", key], &[]);
    assert!(
        err.contains("--tls-cert") && err.contains("missing.pem"),
        "{err}"
    );
    let err = refused(&db, &["--tls-cert", cert, "--tls-key", missing], &[]);
    assert!(
        err.contains("--tls-key") && err.contains("missing.pem"),
        "{err}"
    );
    let err = refused(&db, &["--tls-cert", garbage, "--tls-key", key], &[]);
    assert!(err.contains("--tls-cert"), "{err}");
    let err = refused(&db, &["--tls-cert", cert, "--tls-key", garbage], &[]);
    assert!(err.contains("--tls-key"), "{err}");
    // The certificate given as the key (a PEM, but no key in it).
    let err = refused(&db, &["--tls-cert", cert, "--tls-key", cert], &[]);
    assert!(err.contains("--tls-key"), "{err}");
    // Both or neither.
    let err = refused(&db, &["--tls-cert", cert], &[]);
    assert!(err.contains("--tls-key"), "{err}");
    let err = refused(&db, &["--tls-key", key], &[]);
    assert!(err.contains("--tls-cert"), "{err}");
    // Nothing was created for a server that never started.
    assert!(
        !dir.0.join("t.db").exists(),
        "the database was opened before the TLS check"
    );
    // A typo in the proxy switch is not silently "off".
    let err = refused(&db, &[], &[("JIESU_PUBLIC_HTTPS", "yes")]);
    assert!(err.contains("JIESU_PUBLIC_HTTPS"), "{err}");
}
