//! Who is calling: the [`Caller`] extractor, and `POST /api/v1/login` / `logout`.
//!
//! A bearer token (`Authorization: Bearer …`), the `qhall_session` cookie of the web pages, or —
//! for the event stream only, whose browser and device clients cannot always set headers —
//! `?token=`. Tokens are looked up by SHA-256; a lookup is remembered for a few seconds so a
//! busy kiosk does not pay a database read per request. A session this server ends (logout,
//! password reset, deactivation) is forgotten at once; one ended by another server on the same
//! database stops working within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use qhall_shared::api::{Login, LoginOk};

use super::AppState;
use super::client::ClientAddr;
use super::error::{ApiError, ApiJson, ApiResult};
use super::limit::{self, Refused};
use super::login_guard::MAX_USERNAME_BYTES;
use crate::auth::{csrf_token, new_token, same_secret, token_hash};
use crate::store::{Principal, Role};

/// How long a token lookup is remembered.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// How long a login lasts.
const SESSION_HOURS: i64 = 12;

/// Remembered token lookups. Every forgetting bumps a generation; a lookup that began before
/// it is not remembered, so a session ended while its lookup was in flight cannot come back
/// from the cache.
#[derive(Debug, Default)]
pub struct TokenCache {
    map: Mutex<HashMap<String, (Instant, Option<Principal>)>>,
    generation: AtomicU64,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Principal>)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, hash: &str) -> Option<Option<Principal>> {
        self.lock()
            .get(hash)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, p)| p.clone())
    }

    /// The generation to pass to [`TokenCache::put`] for a lookup starting now.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Remembers a lookup that began at `generation`, unless something was forgotten since.
    fn put(&self, hash: String, p: Option<Principal>, generation: u64) {
        let mut map = self.lock();
        if self.generation() != generation {
            return;
        }
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        }
        map.insert(hash, (Instant::now(), p));
    }

    pub fn forget(&self, hash: &str) {
        let mut map = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        map.remove(hash);
    }

    /// Forgets every remembered session of user `id` (their sessions were ended).
    pub fn forget_user(&self, id: i64) {
        let mut map = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        map.retain(|_, (_, p)| p.as_ref().is_none_or(|p| p.user_id != Some(id)));
    }
}

/// An authenticated caller. Extracting it answers 401 when there is no valid token.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// 403 unless the caller has one of `roles` (admins may do everything).
    pub fn require(&self, roles: &[Role]) -> ApiResult<&Principal> {
        if self.0.role == Role::Admin || roles.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!(
                "a {} may not do this",
                self.0.role.as_str()
            )))
        }
    }
}

/// Where a request's token came from. Only a cookie is sent by the browser on its own, so only
/// a cookie-authenticated state change must also prove it came from our page (CSRF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Bearer,
    Cookie,
    Query,
}

/// The header a web page sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The token a request carries, if any.
pub fn request_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    request_token_from(headers, query).map(|(t, _)| t)
}

/// The token a request carries and where it came from: bearer first, then cookie, then query.
pub fn request_token_from(
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<(String, TokenSource)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Some((t.trim().to_owned(), TokenSource::Bearer));
    }
    if let Some(t) = session_cookie(headers) {
        return Some((t, TokenSource::Cookie));
    }
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(t) = pair.strip_prefix("token=") {
                return Some((t.to_owned(), TokenSource::Query));
            }
        }
    }
    None
}

/// A cookie-authenticated request that changes something must carry the session's CSRF token
/// in [`CSRF_HEADER`] (a cross-site form or script cannot read it, nor set the header).
pub fn check_csrf(
    method: &axum::http::Method,
    headers: &HeaderMap,
    token: &str,
    source: TokenSource,
) -> ApiResult<()> {
    if source != TokenSource::Cookie || method.is_safe() {
        return Ok(());
    }
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if same_secret(sent, &csrf_token(token)) {
        Ok(())
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "csrf_failed",
            "this request did not come from a Qhall page: reload the page and try again",
        ))
    }
}

/// The session cookie's token, for the pages that render for a signed-in person.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("qhall_session=").map(str::to_owned))
}

/// Resolves a token to its principal (cached briefly).
pub async fn principal_for(state: &AppState, token: &str) -> ApiResult<Option<Principal>> {
    if token.is_empty() || token.len() > 512 {
        return Ok(None);
    }
    let hash = token_hash(token);
    if let Some(p) = state.tokens.get(&hash) {
        return Ok(p);
    }
    let generation = state.tokens.generation();
    let p = state.store.principal(&hash, Utc::now()).await?;
    state.tokens.put(hash, p.clone(), generation);
    Ok(p)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already authenticated by [`managers_only`] on the way in.
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let query = if parts.uri.path() == "/api/v1/events" {
            parts.uri.query()
        } else {
            None
        };
        let (token, source) =
            request_token_from(&parts.headers, query).ok_or_else(ApiError::unauthorized)?;
        let caller = principal_for(state, &token)
            .await?
            .map(Caller)
            .ok_or_else(ApiError::unauthorized)?;
        check_csrf(&parts.method, &parts.headers, &token, source)?;
        Ok(caller)
    }
}

/// `Option<Caller>`: no token at all is `None` (a public caller); a token that is not valid is
/// still 401, never taken for a public caller.
impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if parts.extensions.get::<Caller>().is_none()
            && request_token_from(&parts.headers, None).is_none()
        {
            return Ok(None);
        }
        <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// Middleware for routes only managers (and admins) may call: the caller is checked before the
/// handler reads the body, so a wrong caller is told 401 or 403 whatever it sent, never a
/// complaint about a body it had no business sending. The caller travels on in the request's
/// extensions, so the handler's own `Caller` is not looked up again.
pub async fn managers_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    let allowed = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(c) => c.require(&[Role::Manager]).map(|_| ()).inspect(|()| {
            parts.extensions.insert(c.clone());
        }),
        Err(e) => Err(e),
    };
    match allowed {
        Ok(()) => {
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Err(e) => e.into_response(),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/session/branch", axum::routing::put(switch_branch))
}

/// The `qhall_session` cookie carrying `value` for `max_age` seconds; `Secure` when the server
/// is reached over https (its public URL), so the browser never sends it in the clear.
fn session_cookie_header(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("qhall_session={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// `POST /api/v1/login`: a bearer token, and the same token as an HttpOnly cookie for the web
/// pages. Throttled per address and per user, at most one argon2 check per core
/// ([`super::login_guard`]).
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<Login>,
) -> Result<impl IntoResponse, Refused> {
    if body.username.len() > MAX_USERNAME_BYTES {
        return Err(ApiError::invalid(
            "invalid_username",
            format!("a username is at most {MAX_USERNAME_BYTES} bytes"),
        )
        .into());
    }
    let attempt = state
        .logins
        .reserve(&body.username, limit::client_block(client))?;
    let user = state
        .store
        .user_by_name(&body.username)
        .await?
        .filter(|u| u.active);
    let ok = state
        .logins
        .verify(
            body.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong username or password",
        )
        .into());
    };
    state.logins.succeeded(attempt);
    let token = new_token();
    let now = Utc::now();
    state
        .store
        .insert_session(
            &token_hash(&token),
            user.id,
            now,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
    let cookie = session_cookie_header(&state, &token, SESSION_HOURS * 3600);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoginOk {
            token,
            role: user.role.as_str().to_owned(),
        }),
    ))
}

/// `POST /api/v1/logout`: ends the caller's session.
/// `PUT /api/v1/session/branch` `{branch}` (admins): the branch this session works in from now
/// on — the manager pages and the manager API read and change that branch. 204.
async fn switch_branch(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
    caller: Caller,
    super::error::ApiJson(body): super::error::ApiJson<SwitchBranch>,
) -> ApiResult<axum::http::StatusCode> {
    caller.require(&[])?;
    let Some((token, source)) = request_token_from(&headers, None) else {
        return Err(ApiError::unauthorized());
    };
    check_csrf(&method, &headers, &token, source)?;
    let hash = token_hash(&token);
    state.store.set_session_branch(&hash, body.branch).await?;
    state.tokens.forget(&hash);
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/session/branch`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchBranch {
    branch: i64,
}

async fn logout(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    if let Some((token, source)) = request_token_from(&headers, None) {
        check_csrf(&method, &headers, &token, source)?;
        let hash = token_hash(&token);
        state.store.delete_session(&hash).await?;
        state.tokens.forget(&hash);
    }
    let cookie = session_cookie_header(&state, "", 0);
    Ok((
        [(header::SET_COOKIE, cookie)],
        axum::http::StatusCode::NO_CONTENT,
    ))
}
