//! The router: the JSON API, health and metrics, the WebSocket route and
//! the built client.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/lists` | the lists the caller may read, each with its user count and version (`?after=`, `?limit=`) |
//! | `GET /api/v1/lists/{list}` | one list's figures, or 404 `no_such_list` |
//! | `PUT /api/v1/lists/{list}` | creates the list (`roster:admin`): 201, or 200 when it exists |
//! | `DELETE /api/v1/lists/{list}` | deletes it (`roster:admin`); its sockets close with 4410 |
//! | `GET /api/v1/lists/{list}/users` | the list, as the seed protocol's JSON array |
//! | `POST /api/v1/lists/{list}/users` | `{"name"?, "email"?}` → 201 with the user; `Idempotency-Key` makes retries safe |
//! | `GET /api/v1/lists/{list}/users/{id}` | the user, or 404 |
//! | `DELETE /api/v1/lists/{list}/users/{id}` | 200 with the removed user, or 404 |
//! | `GET /api/v1/lists/{list}/ws` | the WebSocket ([`crate::ws`]) |
//! | `/api/v1/users…` | the same as `/api/v1/lists/default/users…` |
//! | `GET /healthz` | 200 when the store answers, else 503 |
//! | `GET /metrics` | Prometheus text |
//!
//! A list name outside the grammar gets 400 `invalid_list`. A caller who
//! may not read a list gets 403 (401 without a token) whether it exists
//! or not, so names cannot be probed; then a list that does not exist
//! gets 404 `no_such_list`.
//!
//! Errors are JSON `{"code","message"}` bodies with the codes of
//! `roster_protocol::v1::ErrorCode`. Changes made here are broadcast to
//! every socket like any other.
//!
//! The API takes `Authorization: Bearer <token>` with the same tokens and
//! scopes as the socket ([`crate::auth`]): reads need `roster:read` on the
//! list, adds and removes `roster:write`, creating and deleting
//! `roster:admin`, unless the anonymous rule allows them.
//! A missing or invalid token gets 401 with `WWW-Authenticate: Bearer`, a
//! token without the scope 403 `forbidden`. Pages of the origins named by
//! `--allowed-origin` may call it across origins (CORS, no credentials).

use std::path::Path;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use roster_protocol::close_code;
use roster_protocol::v1::{ErrorBody, ErrorCode};
use roster_protocol::validate::RequestId;
use roster_protocol::{ListName, UserId};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::assets::Assets;
use crate::auth::{Grant, Level, Refusal};
use crate::paths::{ListAt, UserAt};
use crate::roster::Committed;
use crate::{ws, AppState, List};

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
        .route("/api/v1/lists", get(catalog))
        .route(
            "/api/v1/lists/{list}",
            get(list_figures).put(create_list).delete(delete_list),
        )
        .route("/api/v1/lists/{list}/users", get(list_users).post(add_user))
        .route(
            "/api/v1/lists/{list}/users/{id}",
            get(get_user).delete(remove_user),
        )
        .layer(cors(&state.config.allowed_origins));
    let routes = Router::new()
        .merge(api)
        .route("/api/v1/users/ws", get(ws::upgrade))
        .route("/api/v1/lists/{list}/ws", get(ws::upgrade))
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
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, IDEMPOTENCY_KEY])
        .expose_headers([header::LOCATION, VERSION_HEADER, REPLAYED_HEADER])
        .max_age(std::time::Duration::from_secs(600))
}

/// What a request's `Authorization: Bearer` token (or none) allows; the
/// 401 answer otherwise.
async fn granted(state: &AppState, headers: &HeaderMap) -> Result<(Grant, bool), ApiError> {
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
    Ok((grant, token.is_some()))
}

/// What the request's token (or none) allows, if it allows `need` on
/// `list`; the 401 or 403 answer otherwise. Without read rights the
/// answer is the same whether the list exists or not.
async fn allowed(
    state: &AppState,
    headers: &HeaderMap,
    list: &ListName,
    need: Level,
) -> Result<Grant, ApiError> {
    let (grant, has_token) = granted(state, headers).await?;
    if grant.allows(list, need) {
        return Ok(grant);
    }
    if !has_token {
        return Err(ApiError::unauthorized(Refusal::Missing, state, None));
    }
    if !grant.allows(list, Level::Read) {
        return Err(ApiError::unauthorized(
            Refusal::NoReadScope,
            state,
            grant.sub,
        ));
    }
    state.metrics.error(&ErrorCode::Forbidden);
    let words = match need {
        Level::Admin => "this token may not create or delete this list (it lacks roster:admin)",
        _ => "this token may only read this list (it lacks roster:write)",
    };
    Err(ApiError::from(ErrorBody::new(ErrorCode::Forbidden, words)))
}

/// The list `at` names, if the request may `need` it and it exists (or,
/// for a write with `--lists open`, once it has been created).
async fn open_list(
    state: &AppState,
    headers: &HeaderMap,
    at: &ListAt,
    need: Level,
) -> Result<Arc<List>, ApiError> {
    allowed(state, headers, &at.name, need).await?;
    state
        .lists
        .open(&at.name, need == Level::Write)
        .await
        .map_err(|error| {
            state.metrics.error(&error.code);
            ApiError::from(error)
        })
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
            ErrorCode::MalformedJson | ErrorCode::InvalidRequestId | ErrorCode::InvalidList => {
                StatusCode::BAD_REQUEST
            }
            ErrorCode::NotFound | ErrorCode::NoSuchList => StatusCode::NOT_FOUND,
            ErrorCode::IdempotencyKeyReused | ErrorCode::ListProtected => StatusCode::CONFLICT,
            // Memory is full of lists in use: try again. The store is
            // full of lists: delete one first.
            ErrorCode::TooManyLists if error.retry_after_ms.is_some() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::TooManyLists => StatusCode::CONFLICT,
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
/// replay; `location` for a user just created.
fn committed_response(
    status: StatusCode,
    committed: Committed,
    location: Option<String>,
) -> Response {
    let user = &committed.change.user;
    let mut response = (status, Json(user)).into_response();
    let headers = response.headers_mut();
    headers.insert(VERSION_HEADER, HeaderValue::from(committed.change.version));
    if let Some(location) = location.and_then(|path| HeaderValue::from_str(&path).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if committed.replayed {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

fn error_response(error: ErrorBody, state: &AppState) -> Response {
    state.metrics.error(&error.code);
    ApiError::from(error).into_response()
}

/// `GET …/users`: the list, exactly as the seed socket sends it.
async fn list_users(State(state): State<AppState>, at: ListAt, headers: HeaderMap) -> Response {
    let list = match open_list(&state, &headers, &at, Level::Read).await {
        Ok(list) => list,
        Err(refused) => return refused.into_response(),
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        list.roster().seed_frame().bytes().clone(),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct NewUser {
    name: Option<String>,
    email: Option<String>,
}

/// `POST …/users` with a JSON body (`{}` lets the server pick both).
async fn add_user(
    State(state): State<AppState>,
    at: ListAt,
    headers: HeaderMap,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Response {
    let list = match open_list(&state, &headers, &at, Level::Write).await {
        Ok(list) => list,
        Err(refused) => return refused.into_response(),
    };
    let request = match idempotency_key(&headers) {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return body_rejected(&rejection, &state).into_response(),
    };
    let outcome = list
        .roster()
        .blocking(move |roster| roster.add(request, body.name.as_deref(), body.email.as_deref()))
        .await;
    match outcome {
        Ok(committed) => {
            let location = at.user_path(&committed.change.user.id);
            committed_response(StatusCode::CREATED, committed, Some(location))
        }
        Err(error) => error_response(error, &state),
    }
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

/// `GET …/users/{id}`.
async fn get_user(
    State(state): State<AppState>,
    at: ListAt,
    UserAt(id): UserAt,
    headers: HeaderMap,
) -> Response {
    let list = match open_list(&state, &headers, &at, Level::Read).await {
        Ok(list) => list,
        Err(refused) => return refused.into_response(),
    };
    match list.roster().user(&id) {
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

/// `DELETE …/users/{id}`: 200 with the removed user.
async fn remove_user(
    State(state): State<AppState>,
    at: ListAt,
    UserAt(id): UserAt,
    headers: HeaderMap,
) -> Response {
    let list = match open_list(&state, &headers, &at, Level::Write).await {
        Ok(list) => list,
        Err(refused) => return refused.into_response(),
    };
    let request = match idempotency_key(&headers) {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let outcome = list
        .roster()
        .blocking(move |roster| roster.remove(request, &id))
        .await;
    match outcome {
        Ok(committed) => committed_response(StatusCode::OK, committed, None),
        Err(error) => error_response(error, &state),
    }
}

/// The most lists one page of `GET /api/v1/lists` holds.
const MAX_PAGE: usize = 1_000;

#[derive(Debug, Deserialize)]
struct PageQuery {
    /// Lists whose names come after this one.
    #[serde(default)]
    after: String,
    limit: Option<usize>,
}

/// `GET /api/v1/lists`: the lists the caller may read, in name order, a
/// page at a time (`next` is the `after` of the next page).
async fn catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let (grant, _) = match granted(&state, &headers).await {
        Ok(grant) => grant,
        Err(refused) => return refused.into_response(),
    };
    let Ok(Query(query)) = query else {
        let error = ErrorBody::new(
            ErrorCode::InvalidMessage,
            "after must be a list name and limit a number",
        );
        return error_response(error, &state);
    };
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let keep = move |list: &ListName| grant.allows(list, Level::Read);
    match state.lists.page(query.after, limit, keep).await {
        Ok(lists) => {
            let next = (lists.len() == limit)
                .then(|| lists.last().map(|last| last.name.clone()))
                .flatten();
            Json(serde_json::json!({ "lists": lists, "next": next })).into_response()
        }
        Err(error) => error_response(error, &state),
    }
}

/// `GET /api/v1/lists/{list}`: its name, user count and version.
async fn list_figures(State(state): State<AppState>, at: ListAt, headers: HeaderMap) -> Response {
    let list = match open_list(&state, &headers, &at, Level::Read).await {
        Ok(list) => list,
        Err(refused) => return refused.into_response(),
    };
    let (users, version) = list.roster().stats();
    Json(serde_json::json!({ "name": list.name(), "users": users, "version": version }))
        .into_response()
}

/// `PUT /api/v1/lists/{list}`: 201 when created, 200 when it was there.
async fn create_list(State(state): State<AppState>, at: ListAt, headers: HeaderMap) -> Response {
    if let Err(refused) = allowed(&state, &headers, &at.name, Level::Admin).await {
        return refused.into_response();
    }
    match state.lists.create(&at.name).await {
        Ok(created) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(serde_json::json!({ "name": at.name }))).into_response()
        }
        Err(error) => error_response(error, &state),
    }
}

/// `DELETE /api/v1/lists/{list}`: its sockets close with 4410.
async fn delete_list(State(state): State<AppState>, at: ListAt, headers: HeaderMap) -> Response {
    if let Err(refused) = allowed(&state, &headers, &at.name, Level::Admin).await {
        return refused.into_response();
    }
    match state.lists.delete(&at.name).await {
        Ok(true) => Json(serde_json::json!({ "deleted": at.name })).into_response(),
        Ok(false) => error_response(crate::lists::no_such_list(&at.name), &state),
        Err(error) => error_response(error, &state),
    }
}

/// `GET /healthz`: whether the store answers (for `default`), with a few
/// numbers.
async fn healthz(State(state): State<AppState>) -> Response {
    let default = state.default_list().await;
    let checked = match &default {
        Ok(list) => list.roster().blocking(|roster| roster.check()).await,
        Err(error) => Err(error.clone()),
    };
    let (users, version) = default
        .as_ref()
        .map_or((0, 0), |list| list.roster().stats());
    let store = default.as_ref().map_or(serde_json::Value::Null, |list| {
        list.roster().describe_store()
    });
    let connections = state.metrics.open_connections();
    let loaded = state.metrics.loaded_lists();
    match checked {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "users": users,
            "version": version,
            "connections": connections,
            "lists_loaded": loaded,
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
    let (users, version) = match state.default_list().await {
        Ok(list) => list.roster().stats(),
        Err(_) => (0, 0),
    };
    let lists = state.lists.count().await.ok();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(users, version, lists),
    )
}

async fn client_not_built() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        "The Roster client is not built. Run scripts/run.sh (or `trunk build --release`) \
         and pass its output directory with --dist.\n",
    )
}
