//! A request body with a deadline for the whole of it.
//!
//! tower-http's `RequestBodyTimeoutLayer` restarts its timer on every chunk, so a client
//! sending one byte every few seconds keeps a connection for ever. [`Deadline`] fixes the
//! instant when the request arrives; a body not complete by then fails, the handler answers
//! (its extractor rejects the body) and hyper closes the connection, since the rest of the
//! body was never read.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body `inner`, failing with [`BodyTimedOut`] once its deadline passes.
pub struct Deadline<B> {
    inner: B,
    at: Instant,
    /// Made on the first wait: most requests have no body and never need a timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> Deadline<B> {
    /// `inner` must be complete within `within` from now.
    pub fn new(inner: B, within: Duration) -> Self {
        Deadline {
            inner,
            at: Instant::now() + within,
            sleep: None,
        }
    }
}

/// The request body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

impl<B> Body for Deadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let at = this.at;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    /// A body that never sends anything.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_body_that_stalls_fails_at_its_deadline_not_before() {
        let started = Instant::now();
        let mut body = Deadline::new(Silent, Duration::from_millis(200));
        let r = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(matches!(r, Some(Err(e)) if e.is::<BodyTimedOut>()));
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
