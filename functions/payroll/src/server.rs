//! The service subcommands: `migrate`, `serve`, `tenant create`, `token`, `demo`. They read their
//! configuration from the environment (DATABASE_URL, REDIS_URL, PAYROLL_JWT_SECRET,
//! PAYROLL_DATA_KEY, PORT) and run on a Tokio runtime built here.

use crate::failure::Failure;
use payroll_api::auth::{JwtConfig, Role};
use payroll_api::{AppState, Group};
use payroll_store::Db;
use std::sync::Arc;
use uuid::Uuid;

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))
}

fn database_url() -> Result<String, Failure> {
    std::env::var("DATABASE_URL").map_err(|_| {
        Failure::input("DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/payroll)")
    })
}

fn db() -> Result<Db, Failure> {
    Db::connect(&database_url()?, 4).map_err(|e| Failure::input(e.to_string()))
}

/// `payroll migrate`: apply pending migrations; prints the versions applied and the current one.
pub fn migrate() -> Result<(), Failure> {
    runtime()?.block_on(async {
        let db = db()?;
        let applied = payroll_store::migrate::migrate(&db)
            .await
            .map_err(|e| Failure::internal(format!("migration failed: {e}")))?;
        let version = payroll_store::migrate::current_version(&db)
            .await
            .map_err(|e| Failure::internal(e.to_string()))?;
        if applied.is_empty() {
            println!("schema is up to date (version {version})");
        } else {
            let list: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
            println!(
                "applied migrations {}; schema version {version}",
                list.join(", ")
            );
        }
        Ok(())
    })
}

/// `payroll serve`: every route on PORT (default 8000) until SIGTERM / Ctrl-C.
pub fn serve() -> Result<(), Failure> {
    runtime()?.block_on(async {
        payroll_api::telemetry::init();
        let state = AppState::from_env()
            .await
            .map_err(|e| Failure::input(e.to_string()))?;
        let state = Arc::new(state);
        // Payroll-run chunks: the queue named by QUEUE_URL (Redis Streams or SQS), else in-process.
        if let Some(q) = crate::worker::queue_from_env(std::time::Duration::from_secs(60)).await? {
            payroll_api::routes::runs::install_queue(&state, q);
        }
        let router = payroll_api::app(state, &Group::ALL);
        payroll_api::runtime::serve_or_lambda(router)
            .await
            .map_err(Failure::internal)
    })
}

/// `payroll tenant create --name NAME`: prints the new tenant's id.
pub fn tenant_create(name: &str) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let db = db()?;
        let id = payroll_store::repo::tenants::create(&db, name)
            .await
            .map_err(|e| match e {
                payroll_store::StoreError::Invalid { .. } => Failure::input(e.to_string()),
                other => Failure::internal(other.to_string()),
            })?;
        println!("{id}");
        Ok(())
    })
}

/// `payroll token`: prints a signed bearer token.
pub fn token(tenant: Uuid, role: &str, employee: Option<Uuid>, ttl: i64) -> Result<(), Failure> {
    let role = Role::parse(role).ok_or_else(|| {
        Failure::input(format!(
            "--role: {role:?} is not one of payroll_admin, payroll_manager, payroll_clerk, employee"
        ))
    })?;
    if role == Role::Employee && employee.is_none() {
        return Err(Failure::input(
            "--employee is required for the employee role",
        ));
    }
    if !(60..=31_536_000).contains(&ttl) {
        return Err(Failure::input(
            "--ttl: must be between 60 and 31536000 seconds",
        ));
    }
    let jwt = JwtConfig::from_env().map_err(Failure::input)?;
    let t = jwt
        .mint("cli", tenant, &[role], employee, ttl)
        .map_err(Failure::internal)?;
    println!("{t}");
    Ok(())
}

/// `payroll demo`: load the demo restaurant through the API (in-process) and print its tenant id.
pub fn demo(tenant: Option<Uuid>) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let state = AppState::from_env()
            .await
            .map_err(|e| Failure::input(e.to_string()))?;
        let state = Arc::new(state);
        let tenant = match tenant {
            Some(t) => t,
            None => payroll_store::repo::tenants::create(&state.db, "Demo Bistro Group")
                .await
                .map_err(|e| Failure::internal(e.to_string()))?,
        };
        let summary = crate::demo::load(state, tenant)
            .await
            .map_err(Failure::internal)?;
        println!("{tenant}");
        eprintln!("{summary}");
        Ok(())
    })
}
