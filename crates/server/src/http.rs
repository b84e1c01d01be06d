//! The router: the JSON API, health and metrics, the WebSocket route and
//! the built client.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/users` | the list, as the seed protocol's JSON array |
//! | `POST /api/v1/users` | `{"name"?, "email"?}` → 201 with the user; `Idempotency-Key` makes retries safe |
//! | `GET /api/v1/users/{id}` | the user, or 404 |
//! | `DELETE /api/v1/users/{id}` | 200 with the removed user, or 404 |
//! | `GET /api/v1/users/ws` | the WebSocket ([`crate::ws`]) |
//! | `GET /healthz` | 200 when the store answers, else 503 |
//! | `GET /metrics` | Prometheus text |
//!
//! Errors are JSON `{"code","message"}` bodies with the codes of
//! `roster_protocol::v1::ErrorCode`. Changes made here are broadcast to
//! every socket like any other.
//!
//! The API takes `Authorization: Bearer <token>` with the same tokens and
//! scopes as the socket ([`crate::auth`]): reads need `roster:read`,
//! adds and removes `roster:write`, unless the anonymous rule allows them.
//! A missing or invalid token gets 401 with `WWW-Authenticate: Bearer`, a
//! token without the scope 403 `forbidden`. Pages of the origins named by
//! `--allowed-origin` may call it across origins (CORS, no credentials).

use std::path::Path;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use roster_protocol::close_code;
use roster_protocol::v1::{ErrorBody, ErrorCode};
use roster_protocol::validate::RequestId;
use roster_protocol::UserId;
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::assets::Assets;
use crate::auth::{Grant, Level, Refusal};
use crate::roster::{Committed, Outcome};
use crate::{ws, AppState};

/// Response header with the list version a change produced.
const VERSION_HEADER: HeaderName = HeaderName::from_static("roster-version");
/// Request header that makes a POST or DELETE safe to retry.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Response header set when the answer is a stored one.
const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/users", get(list_users).post(add_user))
        .route("/api/v1/users/{id}", get(get_user).delete(remove_user))
        .layer(cors(&state.config.allowed_origins));
    let routes = Router::new()
        .merge(api)
        .route("/api/v1/users/ws", get(ws::upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(state.config.max_frame_bytes));
    with_client(routes, &state.config.dist)
        // Pages get a Content-Security-Policy naming their own inline
        // scripts (csp.rs). Every answer: no MIME sniffing (the client's
        // files are served with their types), and no Referer leaves the
        // page.
        .layer(axum::middleware::map_response(crate::csp::add_to_pages))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the built client from `dist` (compressed, see
/// [`crate::assets`]), or explains how to build it.
fn with_client(routes: Router<AppState>, dist: &Path) -> Router<AppState> {
    if dist.join("index.html").is_file() {
        let assets = Arc::new(Assets::new(dist));
        let warming = Arc::clone(&assets);
        tokio::task::spawn_blocking(move || warming.warm());
        let client = move |method: Method, uri: Uri, headers: HeaderMap| {
            let assets = Arc::clone(&assets);
            async move {
                let path = uri.path().to_owned();
                let answer =
                    tokio::task::spawn_blocking(move || assets.answer(&method, &path, &headers))
                        .await;
                match answer {
                    Ok(Some(response)) => response,
                    _ => (StatusCode::NOT_FOUND, "not found\n").into_response(),
                }
            }
        };
        // Other sites load Roster's module, wasm and stylesheet from here
        // for <roster-users> and mount(): public files, readable from any
        // origin (module scripts and wasm are fetched with CORS).
        routes
            .fallback(client)
            .layer(SetResponseHeaderLayer::if_not_present(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ))
    } else {
        tracing::warn!(dist = %dist.display(), "no built client found; only the API is served");
        routes.fallback(client_not_built)
    }
}

/// Cross-origin calls to the API from the pages of `origins` (the
/// `--allowed-origin` list; `*` for any): with a token in the
/// `Authorization` header, never with cookies.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, IDEMPOTENCY_KEY])
        .expose_headers([header::LOCATION, VERSION_HEADER, REPLAYED_HEADER])
        .max_age(std::time::Duration::from_secs(600))
}

/// What a request's `Authorization: Bearer` token (or none) allows, if it
/// allows `need`; the 401 or 403 answer otherwise.
async fn allowed(state: &AppState, headers: &HeaderMap, need: Level) -> Result<Grant, ApiError> {
    let token = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| ApiError::unauthorized(Refusal::Malformed, state, None))?,
        ),
    };
    let grant = state
        .auth
        .verify(token)
        .await
        .map_err(|denied| ApiError::unauthorized(denied.refusal, state, denied.sub))?;
    if need == Level::Write && !grant.can_write() {
        if token.is_none() {
            return Err(ApiError::unauthorized(Refusal::Missing, state, None));
        }
        state.metrics.error(&ErrorCode::Forbidden);
        return Err(ApiError::from(ErrorBody::new(
            ErrorCode::Forbidden,
            "this token may only read the list (it lacks roster:write)",
        )));
    }
    Ok(grant)
}

/// An error answer: a status and a JSON `{"code","message"}` body.
struct ApiError(StatusCode, ErrorBody);

impl ApiError {
    /// 401 (or 403 for a token that cannot read), counted and logged once.
    fn unauthorized(refusal: Refusal, state: &AppState, sub: Option<String>) -> Self {
        state.metrics.auth_failed(&refusal);
        tracing::warn!(
            reason = refusal.reason(),
            ?sub,
            "request refused: {refusal}"
        );
        let code = match refusal.close_code() {
            close_code::FORBIDDEN => ErrorCode::Forbidden,
            _ => ErrorCode::Unauthorized,
        };
        state.metrics.error(&code);
        Self::from(ErrorBody::new(code, refusal.words()))
    }
}

impl From<ErrorBody> for ApiError {
    fn from(error: ErrorBody) -> Self {
        let status = match error.code {
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::MalformedJson | ErrorCode::InvalidRequestId => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::IdempotencyKeyReused => StatusCode::CONFLICT,
            ErrorCode::FrameTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::StorageFailed | ErrorCode::StoreUnavailable | ErrorCode::ShuttingDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self(status, error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(self.1)).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            // RFC 6750: how to authenticate.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="roster""#),
            );
        }
        response
    }
}

/// Reads the optional `Idempotency-Key`.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<RequestId>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ErrorBody::new(
            ErrorCode::InvalidRequestId,
            "Idempotency-Key must be printable ASCII",
        )
    })?;
    Ok(Some(RequestId::parse(text).map_err(ErrorBody::from)?))
}

/// A committed change as HTTP: the user, its version, and whether it is a
/// replay.
fn committed_response(status: StatusCode, committed: Committed) -> Response {
    let user = &committed.change.user;
    let mut response = (status, Json(user)).into_response();
    let headers = response.headers_mut();
    headers.insert(VERSION_HEADER, HeaderValue::from(committed.change.version));
    if status == StatusCode::CREATED {
        if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/users/{}", user.id)) {
            headers.insert(header::LOCATION, location);
        }
    }
    if committed.replayed {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

fn outcome_response(status: StatusCode, outcome: Outcome, state: &AppState) -> Response {
    match outcome {
        Ok(committed) => committed_response(status, committed),
        Err(error) => {
            state.metrics.error(&error.code);
            ApiError::from(error).into_response()
        }
    }
}

/// `GET /api/v1/users`: the list, exactly as the seed socket sends it.
async fn list_users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = allowed(&state, &headers, Level::Read).await {
        return refused.into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.roster.seed_frame().bytes().clone(),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct NewUser {
    name: Option<String>,
    email: Option<String>,
}

/// `POST /api/v1/users` with a JSON body (`{}` lets the server pick both).
async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Response {
    if let Err(refused) = allowed(&state, &headers, Level::Write).await {
        return refused.into_response();
    }
    let request = match idempotency_key(&headers) {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return body_rejected(&rejection, &state).into_response(),
    };
    let outcome = state
        .roster
        .blocking(move |roster| roster.add(request, body.name.as_deref(), body.email.as_deref()))
        .await;
    outcome_response(StatusCode::CREATED, outcome, &state)
}

fn body_rejected(rejection: &JsonRejection, state: &AppState) -> ApiError {
    let code = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::FrameTooLarge,
        StatusCode::BAD_REQUEST => ErrorCode::MalformedJson,
        _ => ErrorCode::InvalidMessage,
    };
    state.metrics.error(&code);
    // axum's status is the precise one here (415 for a missing content type).
    ApiError(
        rejection.status(),
        ErrorBody::new(code, rejection.body_text()),
    )
}

/// `GET /api/v1/users/{id}`.
async fn get_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(refused) = allowed(&state, &headers, Level::Read).await {
        return refused.into_response();
    }
    let id = UserId::new(id);
    match state.roster.user(&id) {
        Some(user) => Json(user).into_response(),
        None => ApiError::from(not_found(&id)).into_response(),
    }
}

fn not_found(id: &UserId) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::NotFound,
        format!("there is no user with id {id}"),
    )
}

/// `DELETE /api/v1/users/{id}`: 200 with the removed user.
async fn remove_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(refused) = allowed(&state, &headers, Level::Write).await {
        return refused.into_response();
    }
    let request = match idempotency_key(&headers) {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let id = UserId::new(id);
    let outcome = state
        .roster
        .blocking(move |roster| roster.remove(request, &id))
        .await;
    outcome_response(StatusCode::OK, outcome, &state)
}

/// `GET /healthz`: whether the store answers, with a few numbers.
async fn healthz(State(state): State<AppState>) -> Response {
    let checked = state.roster.blocking(|roster| roster.check()).await;
    let (users, version) = state.roster.stats();
    let connections = state.metrics.open_connections();
    let store = state.roster.describe_store();
    match checked {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "users": users,
            "version": version,
            "connections": connections,
            "store": store,
        }))
        .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "error": error, "store": store })),
        )
            .into_response(),
    }
}

/// `GET /metrics` in Prometheus' text format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (users, version) = state.roster.stats();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(users, version),
    )
}

async fn client_not_built() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        "The Roster client is not built. Run scripts/run.sh (or `trunk build --release`) \
         and pass its output directory with --dist.\n",
    )
}
