//! The one error type at the HTTP edge. Every error is JSON,
//! `{"error":{"code":"…","message":"…"}}`, with a fitting status; database and internal
//! errors are logged in full and answered generically. Never a 500 for bad input.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qhall_shared::api::{ErrorBody, ErrorDetail};

use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    /// 400: the request cannot be read.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }
    /// 401: no or a bad token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in or present a valid token",
        )
    }
    /// 403: the caller's role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 422: a well-formed request with an invalid value.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 500, with the cause logged, never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { code, message } => {
                ApiError::new(StatusCode::NOT_FOUND, code, message)
            }
            StoreError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::Invalid { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            StoreError::Forbidden { code, message } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            StoreError::Unavailable { code, message } => {
                tracing::warn!(code, error = %message, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    unavailable_message(code),
                )
            }
            StoreError::Other(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}

/// What a client is told when the database cannot work (the cause is logged, not shown).
fn unavailable_message(code: &str) -> &'static str {
    match code {
        "storage_full" => "the server's disk is full: nothing was changed; try again later",
        "storage_corrupt" => {
            "the server's database is damaged: nothing was changed; the operator has been told"
        }
        _ => "the server's database cannot be reached or written: nothing was changed; try again",
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::invalid("invalid_body", e.body_text()),
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::malformed(format!("malformed JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            JsonRejection::BytesRejection(e) => {
                let status = e.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(status, "too_large", "the request body is too large")
                } else {
                    ApiError::malformed(e.body_text())
                }
            }
            other => ApiError::malformed(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::malformed(format!("bad query string: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::malformed(r.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The layer that turns a handler's panic into 500 `internal` (the JSON of every other error)
/// and logs it, instead of dropping the connection. Handlers are meant never to panic; this is
/// the net under that rule, so a slip costs one request an error, not its connection.
pub fn catch_panic() -> tower_http::catch_panic::CatchPanicLayer<fn(PanicPayload) -> Response> {
    tower_http::catch_panic::CatchPanicLayer::custom(panic_response as fn(PanicPayload) -> Response)
}

/// What a panic carries.
pub type PanicPayload = Box<dyn std::any::Any + Send + 'static>;

// The layer hands the payload over by value (the signature of its handler).
#[allow(clippy::needless_pass_by_value)]
fn panic_response(payload: PanicPayload) -> Response {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    ApiError::internal(format!("a request handler panicked: {what}")).into_response()
}

/// `Json<T>` whose rejections are [`ApiError`]s, and which refuses text with the NUL character
/// (`\u0000`): PostgreSQL cannot store it in `TEXT`, and no name, note or code has a use for it,
/// so both databases refuse it alike, as 422 `invalid_body`, before anything is read or changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::Bytes::from_request(
            axum::extract::Request::from_parts(parts.clone(), body),
            state,
        )
        .await
        .map_err(|e| ApiError::from(JsonRejection::from(e)))?;
        let nul = has_nul_escape(&bytes);
        let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        let Json(value) = Json::<T>::from_request(req, state).await?;
        if nul {
            return Err(ApiError::invalid(
                "invalid_body",
                "text may not contain the NUL character (\\u0000)",
            ));
        }
        Ok(ApiJson(value))
    }
}

/// Whether a JSON document's strings hold the NUL character: `\u0000` whose backslash is not
/// itself escaped (a raw NUL byte is not valid JSON, and JSON has no other way to write it).
fn has_nul_escape(json: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"u0000";
    json.windows(ESCAPE.len())
        .enumerate()
        .filter(|(_, w)| *w == ESCAPE)
        .any(|(at, _)| {
            let backslashes = json[..at].iter().rev().take_while(|b| **b == b'\\').count();
            backslashes % 2 == 1
        })
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Query<T>` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `Path<T>` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    #[test]
    fn a_nul_escape_is_found_only_where_its_backslash_is_not_escaped() {
        use super::has_nul_escape;
        assert!(has_nul_escape(br#"{"a":"x\u0000"}"#));
        assert!(has_nul_escape(br#"["\u0000"]"#));
        assert!(has_nul_escape(br#"{"a":"\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a":"\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a":"u0000","b":"\u0001"}"#));
        assert!(!has_nul_escape(b""));
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_json_instead_of_dropping_the_connection() {
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if std::hint::black_box(true) {
                        panic!("on purpose");
                    }
                    "never"
                }),
            )
            .layer(super::catch_panic());
        let res = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 500);
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(res.into_body(), 4096).await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert!(body["error"]["message"].is_string());
    }
}
