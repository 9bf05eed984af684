//! Clients that misbehave on the socket: half-sent requests, oversized sizes,
//! garbage. Each affects only its own connection and leaves nothing behind.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// An ApiVersions v0 request; returns the correlation id of the answer.
fn api_versions(addr: &str) -> i32 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let body = [0u8, 18, 0, 0, 0, 0, 0, 9, 0, 1, b'x'];
    s.write_all(&(body.len() as i32).to_be_bytes())
        .expect("write");
    s.write_all(&body).expect("write");
    let mut head = [0u8; 8];
    s.read_exact(&mut head).expect("read");
    i32::from_be_bytes([head[4], head[5], head[6], head[7]])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_connections_leak_nothing() {
    let b = start().await;
    let addr = b.bootstrap.clone();
    let task = tokio::task::spawn_blocking(move || {
        assert_eq!(api_versions(&addr), 9);
        let before = open_fds();
        for i in 0..300 {
            let mut s = TcpStream::connect(&addr).expect("connect");
            match i % 3 {
                // Announces 1000 bytes, sends 10, disconnects.
                0 => {
                    s.write_all(&1000i32.to_be_bytes()).expect("write");
                    s.write_all(&[0u8; 10]).expect("write");
                }
                // Claims a 2 GiB request: refused before any allocation.
                1 => s.write_all(&i32::MAX.to_be_bytes()).expect("write"),
                // A well-framed request with an unknown API key.
                _ => {
                    s.write_all(&8i32.to_be_bytes()).expect("write");
                    s.write_all(&[0x7f, 0x7f, 0, 0, 0, 0, 0, 1]).expect("write");
                }
            }
        }
        // Connections close asynchronously; wait until the count settles.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = open_fds();
            if now <= before + 2 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "fds: {before} before, {now} after"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(api_versions(&addr), 9, "the broker still answers");
    });
    task.await.expect("client thread");
}
