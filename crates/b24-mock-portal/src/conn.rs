//! Connections: the accept loop (a cap on connections served at once, a backoff after accept
//! errors), the timeouts of a connection waiting for a request, and its lingering close.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::engine::Engine;
use crate::server::{handle, Dropped, MockBody};

/// Where connections come from: the TCP listener, or in a test a source of accept errors.
pub(crate) trait Accept: Send + 'static {
    /// A connection.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The next connection, or why there is none.
    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Io>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<tokio::net::TcpStream> {
        let (stream, _peer) = tokio::net::TcpListener::accept(self).await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

/// How long the accept loop sleeps after an accept error that is not about one connection
/// (out of file descriptors, `EMFILE`/`ENFILE`, out of memory...): such an error comes back at
/// once, so retrying at once would spin a core. 10 ms, doubling up to 1 s; an accepted
/// connection starts over.
#[derive(Debug)]
pub(crate) struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    /// The first pause.
    pub(crate) const FIRST: Duration = Duration::from_millis(10);
    /// The longest pause.
    pub(crate) const MAX: Duration = Duration::from_secs(1);

    pub(crate) fn new() -> Self {
        AcceptBackoff { next: Self::FIRST }
    }

    /// The pause after `e`; `None` for an error of one connection only (aborted or reset
    /// before it was accepted), after which the next accept can be tried at once.
    pub(crate) fn failed(&mut self, e: &io::Error) -> Option<Duration> {
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::Interrupted
        ) {
            return None;
        }
        let pause = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        Some(pause)
    }

    /// A connection was accepted.
    pub(crate) fn succeeded(&mut self) {
        self.next = Self::FIRST;
    }
}

/// Accepts connections until shutdown and serves each on its own task.
///
/// At most [`PortalConfig::max_connections`](crate::PortalConfig::max_connections) are served
/// at once: the loop takes a slot of a semaphore before it accepts, so past the cap new
/// connections wait in the listen backlog (unaccepted) until a connection ends.
pub(crate) async fn accept_loop<A: Accept>(
    mut listener: A,
    engine: Arc<Engine>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(
        engine.cfg.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut backoff = AcceptBackoff::new();
    loop {
        let slot = tokio::select! {
            _ = shutdown.changed() => break,
            s = slots.clone().acquire_owned() => s,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
        };
        let io = match accepted {
            Ok(io) => {
                backoff.succeeded();
                io
            }
            Err(e) => {
                if let Some(pause) = backoff.failed(&e) {
                    tracing::warn!(error = %e, ?pause, "accept failed; pausing");
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
                continue;
            }
        };
        engine.note_connection();
        let engine = engine.clone();
        let rx = shutdown.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // Held until the connection ends.
            let _slot = slot;
            match acceptor {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(engine.cfg.header_read_timeout, acceptor.accept(io))
                            .await;
                    if let Ok(Ok(tls)) = handshake {
                        serve_connection(engine, tls, rx).await;
                    }
                }
                None => serve_connection(engine, io, rx).await,
            }
        });
    }
}

/// Serves HTTP/1.1 (keep-alive) on one accepted connection until it closes, times out or the
/// portal shuts down.
pub(crate) async fn serve_connection<IO>(
    engine: Arc<Engine>,
    io: IO,
    mut shutdown: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let busy = Arc::new(Busy::default());
    let io = TimedIo::new(
        io,
        busy.clone(),
        engine.cfg.idle_timeout,
        engine.cfg.header_read_timeout,
    );
    let svc = hyper::service::service_fn(move |req| {
        // From the end of the head to the end of the answer, the connection is busy.
        let guard = BusyGuard::enter(&busy);
        let answer = handle(engine.clone(), req);
        async move {
            let response = answer.await?;
            Ok::<_, Dropped>(response.map(|body| Guarded {
                body,
                _guard: guard,
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = shutdown.changed() => {}
    }
}

/// Whether a request of a connection is being handled; shared by its service and its IO.
#[derive(Default)]
struct Busy {
    requests: AtomicUsize,
    /// The connection's task, woken when the last request ends so that the idle clock
    /// starts even if no byte arrives.
    reader: Mutex<Option<Waker>>,
}

impl Busy {
    fn is_busy(&self) -> bool {
        self.requests.load(Ordering::SeqCst) > 0
    }

    fn set_reader(&self, waker: &Waker) {
        let mut r = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        match &*r {
            Some(w) if w.will_wake(waker) => {}
            _ => *r = Some(waker.clone()),
        }
    }
}

/// One request being handled; ends with its answer's body.
struct BusyGuard(Arc<Busy>);

impl BusyGuard {
    fn enter(busy: &Arc<Busy>) -> Self {
        busy.requests.fetch_add(1, Ordering::SeqCst);
        BusyGuard(busy.clone())
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if self.0.requests.fetch_sub(1, Ordering::SeqCst) == 1 {
            let waker = self
                .0
                .reader
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// An answer's body that keeps its connection busy until it is sent (or dropped).
pub(crate) struct Guarded {
    body: MockBody,
    _guard: BusyGuard,
}

impl Body for Guarded {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What a connection's IO is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The first byte of a request (`idle_timeout`).
    Idle,
    /// The rest of a request's head (`header_read_timeout`, from its first byte).
    Head,
    /// Nothing: a request is being handled (its body has its own timeout in `handle`).
    Busy,
    /// The client, after the portal closed its side (see `poll_shutdown`).
    Linger,
}

/// Most time a closing connection spends reading what the client still sends.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes a closing connection reads and throws away.
const LINGER_BYTES: usize = 1024 * 1024;

/// A connection's IO with its timeouts. hyper's own `header_read_timeout` starts counting when
/// the connection starts waiting for a request, so it cannot tell a keep-alive connection at
/// rest from a slow head; this wrapper times the two apart: the first byte of a request must
/// come within `idle`, the rest of the head within `header` of it. Reads fail with `TimedOut`
/// past a deadline, which makes hyper close the connection.
///
/// Its shutdown lingers: after closing its side it reads and discards what the client still
/// sends (up to [`LINGER_BYTES`] for [`LINGER_TIME`]), because closing a socket with unread
/// data sends a reset, which can make the client lose an answer such as a 413 that it has
/// not read yet.
struct TimedIo<IO> {
    io: IO,
    busy: Arc<Busy>,
    idle: Duration,
    header: Duration,
    wait: Wait,
    deadline: Pin<Box<Sleep>>,
    write_closed: bool,
    lingered: usize,
}

impl<IO> TimedIo<IO> {
    fn new(io: IO, busy: Arc<Busy>, idle: Duration, header: Duration) -> Self {
        TimedIo {
            io,
            busy,
            idle,
            header,
            wait: Wait::Idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            write_closed: false,
            lingered: 0,
        }
    }

    fn wait_for(&mut self, wait: Wait, within: Duration) {
        self.wait = wait;
        // A timeout too long to add is no timeout (a year is as good).
        let now = Instant::now();
        let at = now
            .checked_add(within)
            .unwrap_or(now + Duration::from_secs(365 * 24 * 3600));
        self.deadline.as_mut().reset(at);
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for TimedIo<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.wait == Wait::Linger {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        if this.busy.is_busy() {
            this.wait = Wait::Busy;
            this.busy.set_reader(cx.waker());
            // The request may have ended before the waker was stored.
            if this.busy.is_busy() {
                return Pin::new(&mut this.io).poll_read(cx, buf);
            }
        }
        if this.wait == Wait::Busy {
            let idle = this.idle;
            this.wait_for(Wait::Idle, idle);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.wait == Wait::Idle && buf.filled().len() > before {
                    let header = this.header;
                    this.wait_for(Wait::Head, header);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    let what = if this.wait == Wait::Head {
                        "the request head took longer than header_read_timeout"
                    } else {
                        "no request within idle_timeout"
                    };
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
                }
                Poll::Pending
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TimedIo<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.write_closed {
            std::task::ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            this.write_closed = true;
            this.wait_for(Wait::Linger, LINGER_TIME);
        }
        let mut scratch = [0u8; 8192];
        while this.lingered < LINGER_BYTES {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => break,
                Poll::Ready(Ok(())) => this.lingered += buf.filled().len(),
                Poll::Ready(Err(_)) => break,
                Poll::Pending => {
                    if this.deadline.as_mut().poll(cx).is_ready() {
                        break;
                    }
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PortalConfig;
    use crate::specs::SpecSet;

    #[test]
    fn backoff_doubles_up_to_a_second_and_starts_over_after_a_success() {
        let mut b = AcceptBackoff::new();
        let emfile = io::Error::from_raw_os_error(24);
        let pauses: Vec<u64> = (0..9)
            .map(|_| b.failed(&emfile).map(|d| d.as_millis() as u64))
            .map(|d| d.unwrap_or(0))
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        // One connection's trouble is not the listener's: no pause, no growth.
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(b.failed(&aborted), None);
        b.succeeded();
        assert_eq!(b.failed(&emfile), Some(AcceptBackoff::FIRST));
    }

    /// Answers accepts from a script, noting when each was asked for, then never again.
    struct Scripted {
        script: Vec<io::Result<tokio::io::DuplexStream>>,
        asked: Arc<Mutex<Vec<Instant>>>,
        done: Option<tokio::sync::oneshot::Sender<()>>,
    }

    impl Accept for Scripted {
        type Io = tokio::io::DuplexStream;

        async fn accept(&mut self) -> io::Result<tokio::io::DuplexStream> {
            self.asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Instant::now());
            if self.script.is_empty() {
                if let Some(done) = self.done.take() {
                    let _ = done.send(());
                }
                std::future::pending::<()>().await;
            }
            self.script.remove(0)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_accept_loop_pauses_after_errors_instead_of_spinning() {
        let emfile = || Err(io::Error::from_raw_os_error(24));
        let (client, server) = tokio::io::duplex(64);
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (done, finished) = tokio::sync::oneshot::channel();
        let listener = Scripted {
            script: vec![
                emfile(),
                emfile(),
                emfile(),
                Err(io::Error::from(io::ErrorKind::ConnectionAborted)),
                emfile(),
                Ok(server),
                emfile(),
            ],
            asked: asked.clone(),
            done: Some(done),
        };
        let engine = Arc::new(Engine::new(
            PortalConfig::default(),
            SpecSet::default(),
            &crate::engine::Registry::EMPTY,
        ));
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, engine.clone(), None, rx));
        finished.await.unwrap();
        let asked = asked.lock().unwrap().clone();
        let gaps: Vec<u128> = asked
            .windows(2)
            .map(|w| (w[1] - w[0]).as_millis())
            .collect();
        // 10, 20, 40 ms after the first three; none after an aborted connection; 80 ms
        // after the next; none after a success; and the pause starts over at 10 ms.
        assert_eq!(gaps, [10, 20, 40, 0, 80, 0, 10]);
        assert_eq!(engine.counters().connections, 1);
        drop(client);
        let _ = stop.send(true);
        task.await.unwrap();
    }
}
