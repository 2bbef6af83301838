//! The `main` of every API function: one endpoint group (or several) served through `lambda_http`
//! inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) or by a plain HTTP server otherwise.
//!
//! A function's binary links only the code its groups reach: [`main_for`] is inlined into the
//! function's `main`, where its argument is a constant (`&[Group::Company]`), so the match below
//! resolves at compile time to one [`main_with`] of that group's router function, and the other
//! groups' handlers (and what only they use, such as the job-queue transports of `/payroll-runs`)
//! are never referenced. (Through a runtime `Group` value every group's router would be reachable
//! and linked into every function.) The runs group is served without the in-process queue
//! fallback ([`routes::runs::function_router`]): in Lambda the chunks must go to the queue
//! `QUEUE_URL` names, and the function does not carry the calculation engine.

use crate::routes::{self, Group};
use crate::state::{AppState, SharedState};
use axum::Router;
use std::process::ExitCode;
use std::sync::Arc;

/// Serve `groups` (see [`main_with`]). A one-group list calls that group's router function
/// directly; any other list builds the router from the runtime values.
#[inline(always)]
pub fn main_for(groups: &[Group]) -> ExitCode {
    match groups {
        [Group::Company] => main_with(routes::company::router),
        [Group::Employees] => main_with(routes::employees::router),
        [Group::Time] => main_with(routes::time::router),
        [Group::Paychecks] => main_with(routes::paychecks::router),
        [Group::Audit] => main_with(routes::audit::router),
        [Group::Runs] => main_with(routes::runs::function_router),
        [Group::Paystubs] => main_with(routes::paystubs::router),
        _ => main_with(|| {
            groups
                .iter()
                .fold(Router::new(), |api, g| api.merge(g.router()))
        }),
    }
}

/// Build the runtime, the state from the environment and the application around the business
/// router `api` returns (paths relative to `BASE_PATH`, see [`crate::app_with`]); serve until
/// shut down.
pub fn main_with(api: impl FnOnce() -> Router<SharedState>) -> ExitCode {
    crate::telemetry::init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::from(1);
        }
    };
    let api = api();
    rt.block_on(async {
        let state = match AppState::from_env().await {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "configuration error");
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let router = crate::app_with(state, api);
        match crate::runtime::serve_or_lambda(router).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "server stopped with an error");
                ExitCode::from(1)
            }
        }
    })
}
