//! (Placeholder: being written.)
use crate::state::SharedState;
use axum::Router;

pub fn router() -> Router<SharedState> {
    Router::new()
}
