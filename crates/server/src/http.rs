//! The router: the JSON API, the WebSocket route and the built client.

use std::path::Path;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::{ws, AppState, Config};

/// Every route of the server.
pub fn router(state: AppState, config: &Config) -> Router {
    let routes = Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/ws", get(ws::upgrade));
    with_client(routes, &config.dist)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the built client from `dist`, or explains how to build it.
fn with_client(routes: Router<AppState>, dist: &Path) -> Router<AppState> {
    if dist.join("index.html").is_file() {
        routes.fallback_service(ServeDir::new(dist))
    } else {
        tracing::warn!(dist = %dist.display(), "no built client found; only the API is served");
        routes.fallback(client_not_built)
    }
}

/// `GET /api/v1/users`: the current list, exactly as the socket sends it:
/// the same shared bytes, not a copy.
async fn list_users(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::from(state.roster.snapshot()),
    )
}

async fn client_not_built() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        "The Roster client is not built. Run scripts/run.sh (or `trunk build --release`) \
         and pass its output directory with --dist.\n",
    )
}
