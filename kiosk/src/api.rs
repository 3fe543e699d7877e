//! What the kiosk asks of the server: a trait the controller is written against, and its
//! HTTP + WebSocket implementation.
//!
//! The trait is small on purpose (hall, services, issue, report the printer, follow the
//! event stream) so that the controller tests can fake a whole server in a few lines.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use qhall_shared::api::{
    BookingCheckIn, BookingSummary, CheckIn, CheckedIn, DeskPrint, DeviceState, ErrorBody,
    HallInfo, IssueTicket, IssuedTicket, NotifyMe, NotifyRegistered, PrintJobDone, ServiceInfo,
};
use qhall_shared::events::Message;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;

/// Why a call did not get an answer the kiosk can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No answer within the request timeout. The server may still have acted on it, so a
    /// ticket request is retried with the same `Idempotency-Key`.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server could not be reached (refused, reset, no route).
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// The server answered with an error body (`{"error":{"code","message"}}`).
    #[error("{status} {code}: {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
}

impl ApiError {
    /// Worth trying again with the same request: no answer, or the server failed (5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Timeout | ApiError::Unreachable(_) => true,
            ApiError::Rejected { status, .. } => *status >= 500 || *status == 429,
        }
    }

    /// The error code the server gave, if it answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The server as the kiosk sees it.
pub trait KioskApi: Send + Sync + 'static {
    /// `GET /api/v1/hall`.
    fn hall(&self) -> impl Future<Output = Result<HallInfo, ApiError>> + Send;
    /// `GET /api/v1/services`.
    fn services(&self) -> impl Future<Output = Result<Vec<ServiceInfo>, ApiError>> + Send;
    /// `POST /api/v1/tickets` with `Idempotency-Key: key`. Asking again with the same key
    /// returns the same ticket instead of a second one.
    fn issue(
        &self,
        request: &IssueTicket,
        key: &str,
    ) -> impl Future<Output = Result<IssuedTicket, ApiError>> + Send;
    /// `POST /api/v1/remote-tickets/check-in`: a ticket taken from the phone has arrived.
    fn check_in(&self, code: &str) -> impl Future<Output = Result<CheckedIn, ApiError>> + Send;
    /// `POST /api/v1/appointments/check-in`: a booked customer has come; the appointment's
    /// ticket (the same one again for a code checked in before).
    fn check_in_booking(
        &self,
        code: &str,
    ) -> impl Future<Output = Result<IssuedTicket, ApiError>> + Send;
    /// `GET /api/v1/appointments/{code}`: the booking's times, to say when to come back.
    fn booking(&self, code: &str) -> impl Future<Output = Result<BookingSummary, ApiError>> + Send;
    /// `POST /api/v1/tickets/{id}/notify`: text the customer when their turn is near.
    fn notify(
        &self,
        ticket_id: &str,
        request: &NotifyMe,
    ) -> impl Future<Output = Result<NotifyRegistered, ApiError>> + Send;
    /// `PUT /api/v1/devices/me/state`.
    fn report_device(
        &self,
        state: &DeviceState,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `GET /api/v1/devices/me/print-jobs`: tickets the reception desk sent to this kiosk.
    fn print_jobs(&self) -> impl Future<Output = Result<Vec<DeskPrint>, ApiError>> + Send;
    /// `POST /api/v1/devices/me/print-jobs/{id}`: how the desk's ticket came out.
    fn print_job_done(
        &self,
        id: i64,
        done: &PrintJobDone,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Opens the event stream (`GET /api/v1/events`, resuming after `since`). Messages arrive
    /// on the receiver; it closes when the connection is lost.
    fn events(
        &self,
        since: Option<u64>,
    ) -> impl Future<Output = Result<mpsc::Receiver<Message>, ApiError>> + Send;
}

/// How long the event stream may stay silent (pings unanswered) before the connection
/// counts as lost. Together with a reconnect attempt this keeps "server down" under 3 s.
pub const STREAM_SILENCE: Duration = Duration::from_millis(2000);
const PING_EVERY: Duration = Duration::from_millis(700);

/// The real server over HTTP and WebSocket.
#[derive(Clone)]
pub struct HttpApi {
    base: String,
    token: String,
    client: reqwest::Client,
    /// Whom https and wss trust (the same for both).
    tls: std::sync::Arc<qhall_shared::tls::ClientConfig>,
}

impl std::fmt::Debug for HttpApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("HttpApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HttpApi {
    /// `base` like `http://127.0.0.1:8080`; `timeout` bounds each request.
    pub fn new(base: &str, token: &str, timeout: Duration) -> anyhow::Result<Self> {
        HttpApi::with_ca_file(base, token, timeout, None)
    }

    /// As [`HttpApi::new`], trusting `ca_file` (PEM) besides the system's certificate
    /// authorities for an `https://` server.
    pub fn with_ca_file(
        base: &str,
        token: &str,
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let tls = qhall_shared::tls::client_config(ca_file).map_err(anyhow::Error::msg)?;
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .timeout(timeout)
            .use_preconfigured_tls((*tls).clone())
            .build()?;
        Ok(HttpApi {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            client,
            tls,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| map_reqwest(&e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.text().await.map_err(|e| map_reqwest(&e))?;
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => ApiError::Rejected {
                status: status.as_u16(),
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => ApiError::Rejected {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: status.canonical_reason().unwrap_or("error").to_owned(),
            },
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let resp = self.send(self.client.get(self.url(path))).await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    fn ws_url(&self, since: Option<u64>) -> String {
        let base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        match since {
            Some(seq) => format!("{base}/api/v1/events?since={seq}"),
            None => format!("{base}/api/v1/events"),
        }
    }
}

fn map_reqwest(e: &reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::Timeout
    } else if e.is_decode() {
        ApiError::Rejected {
            status: 200,
            code: "bad_body".into(),
            message: e.to_string(),
        }
    } else {
        ApiError::Unreachable(e.to_string())
    }
}

impl KioskApi for HttpApi {
    async fn hall(&self) -> Result<HallInfo, ApiError> {
        self.get_json("/api/v1/hall").await
    }

    async fn services(&self) -> Result<Vec<ServiceInfo>, ApiError> {
        self.get_json("/api/v1/services").await
    }

    async fn issue(&self, request: &IssueTicket, key: &str) -> Result<IssuedTicket, ApiError> {
        let req = self
            .client
            .post(self.url("/api/v1/tickets"))
            .header("Idempotency-Key", key)
            .json(request);
        let resp = self.send(req).await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    async fn check_in(&self, code: &str) -> Result<CheckedIn, ApiError> {
        let req = self
            .client
            .post(self.url("/api/v1/remote-tickets/check-in"))
            .json(&CheckIn {
                code: code.to_owned(),
            });
        let resp = self.send(req).await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    async fn check_in_booking(&self, code: &str) -> Result<IssuedTicket, ApiError> {
        let req = self
            .client
            .post(self.url("/api/v1/appointments/check-in"))
            .json(&BookingCheckIn {
                code: code.to_owned(),
            });
        let resp = self.send(req).await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    async fn booking(&self, code: &str) -> Result<BookingSummary, ApiError> {
        // Only a well-formed code goes into the path.
        let Some(code) = qhall_shared::booking::code_in(code) else {
            return Err(ApiError::Rejected {
                status: 404,
                code: "unknown_booking".into(),
                message: "there is no booking with that code".into(),
            });
        };
        let req = self
            .client
            .get(self.url(&format!("/api/v1/appointments/{code}")));
        let resp = self.send(req).await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    async fn notify(
        &self,
        ticket_id: &str,
        request: &NotifyMe,
    ) -> Result<NotifyRegistered, ApiError> {
        // The id is the server's own URL-safe token; anything else is not sent.
        if !ticket_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ApiError::Rejected {
                status: 404,
                code: "unknown_ticket".into(),
                message: "not a ticket id".into(),
            });
        }
        let req = self
            .client
            .post(self.url(&format!("/api/v1/tickets/{ticket_id}/notify")))
            .json(request);
        let resp = self.send(req).await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    async fn report_device(&self, state: &DeviceState) -> Result<(), ApiError> {
        self.send(
            self.client
                .put(self.url("/api/v1/devices/me/state"))
                .json(state),
        )
        .await
        .map(|_| ())
    }

    async fn print_jobs(&self) -> Result<Vec<DeskPrint>, ApiError> {
        let resp = self
            .send(self.client.get(self.url("/api/v1/devices/me/print-jobs")))
            .await?;
        resp.json().await.map_err(|e| map_reqwest(&e))
    }

    async fn print_job_done(&self, id: i64, done: &PrintJobDone) -> Result<(), ApiError> {
        self.send(
            self.client
                .post(self.url(&format!("/api/v1/devices/me/print-jobs/{id}")))
                .json(done),
        )
        .await
        .map(|_| ())
    }

    async fn events(&self, since: Option<u64>) -> Result<mpsc::Receiver<Message>, ApiError> {
        use tungstenite::client::IntoClientRequest;
        let mut request = self
            .ws_url(since)
            .into_client_request()
            .map_err(|e| ApiError::Unreachable(format!("bad server address: {e}")))?;
        let auth = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| ApiError::Unreachable("the token is not a valid header value".into()))?;
        request.headers_mut().insert("Authorization", auth);
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(self.tls.clone())),
        );
        let (socket, _) = match tokio::time::timeout(Duration::from_secs(2), connect).await {
            Err(_) => return Err(ApiError::Timeout),
            Ok(Err(tungstenite::Error::Http(resp))) => {
                let status = resp.status().as_u16();
                return Err(ApiError::Rejected {
                    status,
                    code: format!("http_{status}"),
                    message: "the event stream was refused".into(),
                });
            }
            Ok(Err(e)) => return Err(ApiError::Unreachable(e.to_string())),
            Ok(Ok(pair)) => pair,
        };
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(pump(socket, tx));
        Ok(rx)
    }
}

/// Reads the socket into `tx` until the connection is lost, the server is silent too long,
/// or the controller dropped the receiver. Pings keep a silent hall's stream alive and
/// reveal a dead server that never closed the connection.
async fn pump<S>(socket: tokio_tungstenite::WebSocketStream<S>, tx: mpsc::Sender<Message>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            frame = stream.next() => {
                last_heard = tokio::time::Instant::now();
                match frame {
                    Some(Ok(tungstenite::Message::Text(text))) => match serde_json::from_str::<Message>(&text) {
                        Ok(msg) => {
                            if tx.send(msg).await.is_err() {
                                return;
                            }
                        }
                        // A newer server may send event types this kiosk does not know.
                        Err(e) => tracing::debug!("skipping an event this kiosk does not understand: {e}"),
                    },
                    Some(Ok(tungstenite::Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > STREAM_SILENCE || tx.is_closed() {
                    return;
                }
                if sink.send(tungstenite::Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
