//! Serving a router: through `lambda_http` inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set), or as
//! a plain HTTP server on `0.0.0.0:$PORT` (default 8000) with graceful shutdown on SIGTERM and
//! Ctrl-C (`payroll serve`, Kubernetes, Knative, local development).

use axum::Router;

/// The default port of the plain HTTP server.
pub const DEFAULT_PORT: u16 = 8000;

/// Running inside AWS Lambda?
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// `PORT` (default 8000).
pub fn port_from_env() -> Result<u16, String> {
    match std::env::var("PORT") {
        Err(_) => Ok(DEFAULT_PORT),
        Ok(v) if v.trim().is_empty() => Ok(DEFAULT_PORT),
        Ok(v) => v
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a TCP port number (0-65535), got {v:?}")),
    }
}

/// Serve `router` in Lambda or on `0.0.0.0:$PORT` until SIGTERM/Ctrl-C.
pub async fn serve_or_lambda(router: Router) -> Result<(), String> {
    crate::telemetry::init();
    if in_lambda() {
        tracing::info!("starting the Lambda runtime");
        return lambda_http::run(router)
            .await
            .map_err(|e| format!("lambda runtime: {e}"));
    }
    let port = port_from_env()?;
    serve(router, port).await
}

/// Serve `router` on `0.0.0.0:port` until SIGTERM/Ctrl-C (in-flight requests finish).
pub async fn serve(router: Router, port: u16) -> Result<(), String> {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    serve_on(listener, router, shutdown_signal()).await
}

/// Serve on an already-bound listener until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(%addr, "listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("server stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
        _ = term => tracing::info!("SIGTERM received; shutting down"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn serves_until_shutdown() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = Router::new().route("/ping", get(|| async { "pong" }));
        let server = tokio::spawn(serve_on(listener, router, async {
            let _ = rx.await;
        }));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("pong"), "{out}");
        tx.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
