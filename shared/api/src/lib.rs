//! The HTTP API (`/api/payroll/v1`): one axum `Router` per endpoint group, served in AWS Lambda
//! through `lambda_http` or as a plain HTTP server (`payroll serve`, Kubernetes, Knative).

pub mod auth;
pub mod error;
pub mod etag;
pub mod extract;
pub mod pagination;
pub mod ratelimit;
pub mod routes;
pub mod state;

pub use error::{ApiError, ApiResult};
pub use routes::Group;
pub use state::{AppState, SharedState};

/// The base path of every business route.
pub const BASE_PATH: &str = "/api/payroll/v1";

/// The application: the given endpoint groups under `BASE_PATH`, plus `/health`, `/ready`,
/// `/metrics` and `/openapi.json`. (Middleware is being added.)
pub fn app(state: SharedState, groups: &[Group]) -> axum::Router {
    let mut api = axum::Router::new();
    for g in groups {
        api = api.merge(g.router());
    }
    axum::Router::new()
        .nest(BASE_PATH, api)
        .merge(routes::ops::router())
        .with_state(state)
}
