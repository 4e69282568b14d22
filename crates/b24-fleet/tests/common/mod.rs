//! A real `redis-server` for a test, on a free port of 127.0.0.1, without persistence.
//! Missing `redis-server` fails the test with a message saying how to install it.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// Starts `redis-server` on a free port and waits until it answers PING.
    pub fn start() -> RedisServer {
        Self::start_with(free_port)
    }

    /// Starts `redis-server` again on `port` (after [`RedisServer::stop`]), empty.
    pub fn start_on(port: u16) -> RedisServer {
        Self::start_with(|| port)
    }

    fn start_with(port: impl Fn() -> u16) -> RedisServer {
        let mut last = String::new();
        // A port found free may be taken before redis-server binds it: try a few.
        for _ in 0..5 {
            let port = port();
            let spawned = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "yes",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                    "redis-server is not installed (not on PATH): the b24-fleet tests need a \
                     real Redis. Install it from the OS packages, e.g. \
                     `apt-get install -y redis-server` (Debian/Ubuntu) or \
                     `brew install redis` (macOS); `.ci/run` does this on CI."
                ),
                Err(e) => panic!("cannot start redis-server: {e}"),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("redis-server exited with {status} on port {port}");
                    break;
                }
                if ping(port) {
                    return RedisServer { child, port };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            if last.is_empty() {
                last = format!("redis-server on port {port} did not answer PING within 10 s");
            }
        }
        panic!("could not start redis-server: {last}");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (SIGKILL) and waits for it: Redis is down from here on.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Whether a Redis answers `PING` on `port`.
fn ping(port: u16) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}/")) else {
        return false;
    };
    let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(500)) else {
        return false;
    };
    redis::cmd("PING")
        .query::<String>(&mut conn)
        .is_ok_and(|p| p == "PONG")
}
