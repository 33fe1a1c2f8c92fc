//! A loopback HTTP proxy that misbehaves on cue, to put faults between a point and the centre:
//! 500s, dropped connections before or after the receiver stored the request, slow answers
//! that outlast the client's timeout. One request per connection (the sender does not reuse
//! connections).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forward and answer normally.
    Pass,
    /// Answer 500 without forwarding.
    Status500,
    /// Close the connection without reading or answering.
    CloseAtOnce,
    /// Forward (the receiver stores it), then close without answering.
    ForwardThenDrop,
    /// Forward, then answer only after this long (past the client's timeout).
    ForwardThenDelay(u64),
}

#[derive(Clone)]
pub struct FaultProxy {
    pub addr: String,
    script: Arc<Mutex<VecDeque<Fault>>>,
    pub seen: Arc<Mutex<Vec<Fault>>>,
}

async fn read_http(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf)
}

async fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await.ok()?;
    up.write_all(request).await.ok()?;
    read_http(&mut up).await
}

impl FaultProxy {
    pub async fn start(upstream: String) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let script: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let seen: Arc<Mutex<Vec<Fault>>> = Arc::default();
        let (s2, seen2) = (Arc::clone(&script), Arc::clone(&seen));
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let fault = s2.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
                seen2.lock().unwrap().push(fault);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if matches!(fault, Fault::CloseAtOnce) {
                        return;
                    }
                    let Some(request) = read_http(&mut client).await else {
                        return;
                    };
                    match fault {
                        Fault::Status500 => {
                            let _ = client
                                .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                                .await;
                        }
                        Fault::ForwardThenDrop => {
                            let _ = forward(&upstream, &request).await;
                        }
                        Fault::ForwardThenDelay(ms) => {
                            let response = forward(&upstream, &request).await;
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            if let Some(r) = response {
                                let _ = client.write_all(&r).await;
                            }
                        }
                        Fault::Pass | Fault::CloseAtOnce => {
                            if let Some(r) = forward(&upstream, &request).await {
                                let _ = client.write_all(&r).await;
                            }
                        }
                    }
                });
            }
        });
        FaultProxy { addr, script, seen }
    }

    /// Queue faults for the next connections, in order.
    pub fn then(&self, faults: &[Fault]) {
        self.script.lock().unwrap().extend(faults.iter().copied());
    }
}
