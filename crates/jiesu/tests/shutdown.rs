//! Stopping the server: SIGTERM (what systemd, Docker and Kubernetes send) drains like Ctrl-C.
//! A request already being received when the signal arrives is answered, then the process
//! exits cleanly; before, SIGTERM killed it on the spot and cut such a request off.

#![cfg(unix)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

#[test]
fn sigterm_drains_in_flight_requests_then_exits_cleanly() {
    let dir = std::env::temp_dir().join(format!("jiesu-shutdown-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = format!("sqlite://{}", dir.join("s.db").display());
    let (mut child, url) = common::serve(&db, &[], &[]);
    let addr = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not http: {url}"))
        .to_string();

    // A login whose body is still on its way when the signal comes.
    let body = r#"{"username":"nobody","password":"not-the-password"}"#;
    let (head, tail) = body.split_at(10);
    let mut conn = TcpStream::connect(&addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        conn,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .expect("send head");
    conn.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the server died at SIGTERM with a request in flight"
    );

    conn.write_all(tail.as_bytes()).expect("send the rest");
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the in-flight request was not answered: {answer:?}"
    );
    drop(conn);

    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the server did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
