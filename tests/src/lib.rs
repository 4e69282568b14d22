//! Helpers shared by the workspace-level tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-shot HTTP server on loopback that reads one request and answers with `raw` bytes
/// exactly as given (status line, headers and body), then closes the connection. Lets a test
/// send what a well-behaved server library never would: a body shorter than its
/// `Content-Length`, or nothing at all.
pub async fn raw_http_once(raw: Vec<u8>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Ok((mut socket, _)) = listener.accept().await {
            read_request(&mut socket).await;
            let _ = socket.write_all(&raw).await;
            let _ = socket.shutdown().await;
        }
    });
    Ok(addr)
}

/// An HTTP server on loopback that answers every request with the raw bytes `answer` makes
/// of the request's head (request line and headers, as received), then closes the
/// connection: a proxy whose error page echoes the request.
pub async fn raw_http_echo<F>(answer: F) -> std::io::Result<SocketAddr>
where
    F: Fn(&str) -> Vec<u8> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let seen = read_request(&mut socket).await;
                let end = seen
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .unwrap_or(seen.len());
                let head = String::from_utf8_lossy(&seen[..end]).into_owned();
                let _ = socket.write_all(&answer(&head)).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(addr)
}

/// Reads until the end of the headers and the announced body, or a short timeout.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    while let Ok(Ok(n)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), socket.read(&mut buf)).await
    {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if request_complete(&seen) {
            break;
        }
    }
    seen
}

fn request_complete(seen: &[u8]) -> bool {
    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    seen.len() >= end + 4 + length
}
