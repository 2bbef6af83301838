//! `payroll routes`: every HTTP route of the service with its method and the endpoint groups
//! (Lambda functions) that serve it. Deployment checks (`scripts/validate-deploy`) compare this
//! list with the API Gateway routes of `template.yaml`.
//!
//! The list is taken from the routers themselves, not from documentation: every (method, path)
//! of the OpenAPI document is sent, with its path parameters filled in and no credentials, to
//! the application of each endpoint group in turn (`payroll_api::app(state, &[group])`, the same
//! call the Lambda functions make). A group serves the route unless its router answers with the
//! router's own fallbacks (problem+json 404 "no route matches this path", or 405
//! `method_not_allowed`). Nothing connects anywhere: the database pool is lazy and points at a
//! closed port, and unauthenticated requests stop at the bearer check.

use crate::failure::Failure;
use payroll_api::auth::JwtConfig;
use payroll_api::state::Settings;
use payroll_api::{AppState, BASE_PATH, Group};
use payroll_store::Db;
use payroll_store::crypto::DataKey;
use serde::Serialize;
use std::sync::Arc;
use tower::ServiceExt;

/// HTTP methods in the order OpenAPI lists them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Value used for every path parameter (`{id}`, `{employee_id}`, ...) when probing.
const PARAM: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Route {
    /// Upper-case HTTP method.
    pub method: String,
    /// Full path as the router matches it, e.g. `/api/payroll/v1/employees/{id}`.
    pub path: String,
    /// `business` (under the base path) or `ops` (`/health`, `/ready`, `/metrics`, ...).
    pub kind: &'static str,
    /// Lower-case group names (`company`, `employees`, ...) whose router serves the route.
    pub groups: Vec<String>,
}

/// The lower-case name of a group (`Group::Company` → `company`), as the deployment files use.
pub fn group_name(g: Group) -> String {
    format!("{g:?}").to_lowercase()
}

/// A state that never connects: lazy pool on a closed port, throw-away keys, no Redis.
fn offline_state() -> Result<payroll_api::SharedState, Failure> {
    let db = Db::connect("postgres://routes@127.0.0.1:1/routes", 1)
        .map_err(|e| Failure::internal(e.to_string()))?;
    let jwt = JwtConfig::new(&[7u8; 32], "payroll", "payroll-api").map_err(Failure::internal)?;
    let key = DataKey::from_bytes(&[9u8; 32]).map_err(|e| Failure::internal(e.to_string()))?;
    Ok(Arc::new(AppState::new(
        db,
        jwt,
        key,
        None,
        Settings::default(),
    )))
}

/// (method, path) of every operation in the OpenAPI document, in document order.
fn documented_operations() -> Result<Vec<(String, String)>, Failure> {
    let doc = serde_json::to_value(payroll_api::routes::ops::openapi())
        .map_err(|e| Failure::internal(format!("cannot serialize the OpenAPI document: {e}")))?;
    let paths = doc
        .get("paths")
        .and_then(|p| p.as_object())
        .ok_or_else(|| Failure::internal("the OpenAPI document has no paths"))?;
    let mut ops = Vec::new();
    for (path, item) in paths {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    Ok(ops)
}

/// Replace each `{name}` segment with a concrete value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                PARAM
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Does `app` route (method, path) to a handler (anything but the router's own 404/405)?
async fn serves(app: &axum::Router, method: &str, path: &str) -> Result<bool, Failure> {
    let req = http::Request::builder()
        .method(method)
        .uri(concrete(path))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))
        .map_err(|e| Failure::internal(format!("{method} {path}: {e}")))?;
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| Failure::internal(format!("{method} {path}: {e}")))?;
    let status = resp.status().as_u16();
    if status != 404 && status != 405 {
        return Ok(true);
    }
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map_err(|e| Failure::internal(format!("{method} {path}: {e}")))?
        .to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let code = problem.get("code").and_then(|c| c.as_str()).unwrap_or("");
    let detail = problem.get("detail").and_then(|c| c.as_str()).unwrap_or("");
    let fallback = (status == 405 && code == "method_not_allowed")
        || (status == 404 && code == "not_found" && detail == "no route matches this path");
    Ok(!fallback)
}

/// Probe every documented operation against every group's application.
pub async fn collect() -> Result<Vec<Route>, Failure> {
    let state = offline_state()?;
    let apps: Vec<(String, axum::Router)> = Group::ALL
        .iter()
        .map(|g| (group_name(*g), payroll_api::app(state.clone(), &[*g])))
        .collect();
    let mut routes = Vec::new();
    for (method, path) in documented_operations()? {
        let mut groups = Vec::new();
        for (name, app) in &apps {
            if serves(app, &method, &path).await? {
                groups.push(name.clone());
            }
        }
        let business = path == BASE_PATH || path.starts_with(&format!("{BASE_PATH}/"));
        if groups.is_empty() {
            return Err(Failure::internal(format!(
                "{method} {path} is in the OpenAPI document but no endpoint group's router serves it"
            )));
        }
        routes.push(Route {
            method,
            path,
            kind: if business { "business" } else { "ops" },
            groups,
        });
    }
    Ok(routes)
}

/// `payroll routes [--json]`.
pub fn run(json: bool) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))?;
    let routes = rt.block_on(collect())?;
    let out = if json {
        serde_json::to_string_pretty(&routes).map_err(|e| Failure::internal(e.to_string()))? + "\n"
    } else {
        let width = routes.iter().map(|r| r.path.len()).max().unwrap_or(0);
        routes
            .iter()
            .map(|r| {
                format!(
                    "{:<7} {:<width$}  {}\n",
                    r.method,
                    r.path,
                    if r.kind == "ops" {
                        "ops (every function)".to_owned()
                    } else {
                        r.groups.join(",")
                    }
                )
            })
            .collect()
    };
    use std::io::Write;
    let mut w = crate::io::open_output(None)?;
    w.write_all(out.as_bytes())
        .and_then(|()| w.flush())
        .map_err(|e| crate::io::write_failure(&e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_filled_in() {
        assert_eq!(
            concrete("/api/payroll/v1/employees/{id}/deductions/{did}"),
            format!("/api/payroll/v1/employees/{PARAM}/deductions/{PARAM}")
        );
        assert_eq!(concrete("/health"), "/health");
    }

    #[tokio::test]
    async fn every_business_route_has_exactly_one_group_and_ops_routes_are_everywhere() {
        let routes = collect().await.unwrap();
        let ops: Vec<&Route> = routes.iter().filter(|r| r.kind == "ops").collect();
        for p in ["/health", "/ready", "/metrics", "/openapi.json"] {
            let r = ops.iter().find(|r| r.path == p).unwrap();
            assert_eq!(r.groups.len(), Group::ALL.len(), "{p}");
        }
        for r in routes.iter().filter(|r| r.kind == "business") {
            assert_eq!(r.groups.len(), 1, "{} {}: {:?}", r.method, r.path, r.groups);
        }
        let company = routes
            .iter()
            .find(|r| r.method == "GET" && r.path == "/api/payroll/v1/company")
            .unwrap();
        assert_eq!(company.groups, ["company"]);
        let delete = routes
            .iter()
            .find(|r| r.method == "DELETE" && r.path == "/api/payroll/v1/time-entries/{id}")
            .unwrap();
        assert_eq!(delete.groups, ["time"]);
    }

    #[tokio::test]
    async fn a_method_the_router_lacks_is_not_served() {
        let state = offline_state().unwrap();
        let app = payroll_api::app(state, &[Group::Company]);
        assert!(
            serves(&app, "GET", "/api/payroll/v1/company")
                .await
                .unwrap()
        );
        assert!(
            !serves(&app, "DELETE", "/api/payroll/v1/company")
                .await
                .unwrap()
        );
        assert!(
            !serves(&app, "GET", "/api/payroll/v1/employees")
                .await
                .unwrap()
        );
    }
}
