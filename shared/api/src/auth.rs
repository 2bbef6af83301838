//! Bearer JWT (HS256) authentication and role-based authorization.
//!
//! Claims: `sub`, `tenant_id`, `roles`, optional `employee_id`, plus `iss`, `aud`, `exp`, `iat`.
//! Roles: `payroll_admin` (everything), `payroll_manager` (all but company settings changes and
//! the audit log), `payroll_clerk` (read, time entries, previews), `employee` (own profile, read-only).

use crate::error::ApiError;
use crate::state::SharedState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PayrollAdmin,
    PayrollManager,
    PayrollClerk,
    Employee,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read employer data (employees, locations, schedules, time entries, rule packs).
    Read,
    /// Change company settings.
    WriteCompany,
    /// Change locations, pay schedules, employees and their sub-resources.
    WriteOrg,
    /// Import and delete time entries.
    WriteTime,
    /// Stateless paycheck previews.
    Preview,
    /// Read the audit log.
    ReadAudit,
    /// Read unmasked SSNs and account numbers.
    ReadSensitive,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::PayrollAdmin => true,
            Role::PayrollManager => !matches!(p, WriteCompany | ReadAudit | ReadSensitive),
            Role::PayrollClerk => matches!(p, Read | WriteTime | Preview),
            Role::Employee => false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant_id: Uuid,
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<Uuid>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and verification settings.
#[derive(Clone)]
pub struct JwtConfig {
    secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

pub const DEFAULT_ISSUER: &str = "payroll";
pub const DEFAULT_AUDIENCE: &str = "payroll-api";

impl JwtConfig {
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Result<JwtConfig, String> {
        if secret.len() < 32 {
            return Err("PAYROLL_JWT_SECRET must be at least 32 bytes".into());
        }
        Ok(JwtConfig {
            secret: secret.to_vec(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// From `PAYROLL_JWT_SECRET`, `PAYROLL_JWT_ISSUER` (default `payroll`) and
    /// `PAYROLL_JWT_AUDIENCE` (default `payroll-api`).
    pub fn from_env() -> Result<JwtConfig, String> {
        let secret = std::env::var("PAYROLL_JWT_SECRET")
            .map_err(|_| "PAYROLL_JWT_SECRET is not set".to_owned())?;
        let iss = std::env::var("PAYROLL_JWT_ISSUER").unwrap_or_else(|_| DEFAULT_ISSUER.into());
        let aud = std::env::var("PAYROLL_JWT_AUDIENCE").unwrap_or_else(|_| DEFAULT_AUDIENCE.into());
        JwtConfig::new(secret.as_bytes(), &iss, &aud)
    }

    /// Sign a token (for `payroll token` and tests).
    pub fn mint(
        &self,
        sub: &str,
        tenant_id: Uuid,
        roles: &[Role],
        employee_id: Option<Uuid>,
        ttl_secs: i64,
    ) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            tenant_id,
            roles: roles
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            employee_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ttl_secs,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .map_err(|e| e.to_string())
    }

    /// Verify signature, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &v)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    pub sub: String,
    pub tenant_id: Uuid,
    pub roles: Vec<Role>,
    pub employee_id: Option<Uuid>,
}

impl Auth {
    pub fn allows(&self, p: Permission) -> bool {
        self.roles.iter().any(|r| r.allows(p))
    }

    /// 403 unless one of the caller's roles grants `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.allows(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// Read access to one employee: staff with `Read`, or the employee themself.
    /// Another employee's record answers 404 (its existence is not revealed).
    pub fn require_employee_read(&self, employee: Uuid) -> Result<(), ApiError> {
        if self.allows(Permission::Read) {
            return Ok(());
        }
        if self.roles.contains(&Role::Employee) && self.employee_id == Some(employee) {
            return Ok(());
        }
        if self.roles.contains(&Role::Employee) {
            return Err(ApiError::not_found());
        }
        Err(ApiError::forbidden())
    }

    /// The actor string recorded in the audit log.
    pub fn actor(&self) -> &str {
        &self.sub
    }

    /// Authenticate from an `Authorization: Bearer` header value.
    pub fn from_header(cfg: &JwtConfig, value: Option<&str>) -> Result<Auth, ApiError> {
        let value = value.ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("expected 'Authorization: Bearer <token>'"))?;
        let claims = cfg
            .verify(token.trim())
            .map_err(|e| ApiError::unauthorized(format!("invalid token: {e}")))?;
        let roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        if roles.is_empty() {
            return Err(ApiError::forbidden());
        }
        if roles.contains(&Role::Employee) && claims.employee_id.is_none() && roles.len() == 1 {
            return Err(ApiError::unauthorized(
                "an employee token needs employee_id",
            ));
        }
        Ok(Auth {
            sub: claims.sub,
            tenant_id: claims.tenant_id,
            roles,
            employee_id: claims.employee_id,
        })
    }
}

impl FromRequestParts<SharedState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(a) = parts.extensions.get::<Auth>() {
            return Ok(a.clone());
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let auth = Auth::from_header(&state.jwt, header)?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}
