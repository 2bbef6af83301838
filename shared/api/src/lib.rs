//! The HTTP API (`/api/payroll/v1`): one axum `Router` per endpoint group, served in AWS Lambda
//! through `lambda_http` or as a plain HTTP server (`payroll serve`, Kubernetes, Knative).

pub mod auth;
pub mod error;
pub mod ratelimit;
pub mod routes;
pub mod state;

pub use error::{ApiError, ApiResult};
pub use routes::Group;
pub use state::{AppState, SharedState};

/// The base path of every business route.
pub const BASE_PATH: &str = "/api/payroll/v1";
