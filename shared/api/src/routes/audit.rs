//! (Placeholder: being written.)
use crate::state::SharedState;
use axum::Router;

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
}
