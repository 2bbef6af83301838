//! The `main` of every API function: one endpoint group (or several) served through `lambda_http`
//! inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) or by a plain HTTP server otherwise.

use crate::routes::Group;
use crate::state::AppState;
use std::process::ExitCode;
use std::sync::Arc;

/// Build the runtime, the state from the environment and the router; serve until shut down.
pub fn main_for(groups: &[Group]) -> ExitCode {
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
    rt.block_on(async {
        let state = match AppState::from_env().await {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "configuration error");
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let router = crate::app(state, groups);
        match crate::runtime::serve_or_lambda(router).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "server stopped with an error");
                ExitCode::from(1)
            }
        }
    })
}
