//! What a request's path names: the list (`/api/v1/lists/{list}/…`, or
//! `default` for the single-list routes) and the user (`…/users/{id}`),
//! read once for the HTTP API and the socket alike.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_protocol::v1::ErrorBody;
use roster_protocol::{ListName, UserId};

/// The list a request's path names (`/api/v1/lists/{list}/…`), or
/// `default` for the single-list routes (`/api/v1/users…`).
pub struct ListAt {
    pub name: ListName,
    /// Whether the path named it (the answers' `Location` follows suit).
    pub named: bool,
}

impl ListAt {
    /// Where user `id` of this list is.
    pub fn user_path(&self, id: &UserId) -> String {
        if self.named {
            format!("/api/v1/lists/{}/users/{id}", self.name)
        } else {
            format!("/api/v1/users/{id}")
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListAt {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(text) = path_param(parts, state, "list").await? else {
            return Ok(Self {
                name: ListName::default_list(),
                named: false,
            });
        };
        let name = ListName::parse(&text)
            .map_err(|err| (StatusCode::BAD_REQUEST, Json(ErrorBody::from(err))).into_response())?;
        Ok(Self { name, named: true })
    }
}

/// The user id a path names (`…/users/{id}`).
pub struct UserAt(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for UserAt {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = path_param(parts, state, "id")
            .await?
            .ok_or_else(|| StatusCode::NOT_FOUND.into_response())?;
        Ok(Self(UserId::new(id)))
    }
}

/// The route's parameter `key`, if the route has one.
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    key: &str,
) -> Result<Option<String>, Response> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(params
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value.to_owned()))
}
