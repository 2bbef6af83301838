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
        hs256::install();
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

/// jsonwebtoken's cryptography for the one algorithm the API signs and accepts, HS256 (HMAC with
/// SHA-256, `hmac` + `sha2`), installed as the process default by [`JwtConfig::new`]. The crate's
/// own RustCrypto provider would also link RSA, ECDSA and EdDSA (≈ 0.5 MB in every function
/// binary); any other algorithm is `UnsupportedAlgorithm` here, and [`JwtConfig::verify`]
/// already refuses a token whose header names another one before a key is used.
mod hs256 {
    use hmac::{Hmac, KeyInit, Mac};
    use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
    use jsonwebtoken::errors::{ErrorKind, Result};
    use jsonwebtoken::signature::{self, Signer, Verifier};
    use jsonwebtoken::{Algorithm, AlgorithmFamily};
    use sha2::Sha256;

    struct Hs256(Hmac<Sha256>);

    impl Hs256 {
        fn keyed(alg: &Algorithm, family: AlgorithmFamily, secret: &[u8]) -> Result<Hs256> {
            if *alg != Algorithm::HS256 {
                return Err(ErrorKind::UnsupportedAlgorithm.into());
            }
            if family != AlgorithmFamily::Hmac {
                return Err(ErrorKind::InvalidKeyFormat.into());
            }
            Hmac::new_from_slice(secret)
                .map(Hs256)
                .map_err(|_| ErrorKind::InvalidKeyFormat.into())
        }

        fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
            let mut mac = self.0.clone();
            mac.update(message);
            mac
        }
    }

    impl Signer<Vec<u8>> for Hs256 {
        fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
            Ok(self.mac(message).finalize().into_bytes().to_vec())
        }
    }

    impl Verifier<Vec<u8>> for Hs256 {
        /// Constant-time comparison (`Mac::verify_slice`).
        fn verify(
            &self,
            message: &[u8],
            sig: &Vec<u8>,
        ) -> std::result::Result<(), signature::Error> {
            self.mac(message)
                .verify_slice(sig)
                .map_err(|_| signature::Error::new())
        }
    }

    impl JwtSigner for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    impl JwtVerifier for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    static PROVIDER: CryptoProvider = CryptoProvider {
        signer_factory: |alg, key| {
            let signer: Box<dyn JwtSigner> =
                Box::new(Hs256::keyed(alg, key.family(), key.as_bytes())?);
            Ok(signer)
        },
        verifier_factory: |alg, key| {
            let verifier: Box<dyn JwtVerifier> =
                Box::new(Hs256::keyed(alg, key.family(), key.try_get_as_bytes()?)?);
            Ok(verifier)
        },
        // JWKs are not used (the key is a shared secret).
        key_utils: KeyUtils::new_unimplemented(),
    };

    /// Make [`PROVIDER`] the process default (once; later calls change nothing).
    pub(super) fn install() {
        let _already = PROVIDER.install_default();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use base64::Engine;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn config() -> JwtConfig {
        JwtConfig::new(SECRET, DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap()
    }

    /// The provider's HS256 is HMAC-SHA-256: RFC 4231 test case 2.
    #[test]
    fn hs256_signature_is_hmac_sha256() {
        let _ = config(); // installs the provider
        let sig = jsonwebtoken::crypto::sign(
            b"what do ya want for nothing?",
            &EncodingKey::from_secret(b"Jefe"),
            Algorithm::HS256,
        )
        .unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .unwrap();
        assert_eq!(
            hex::encode(bytes),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens_round_trip_and_tampering_or_other_algorithms_fail() {
        let jwt = config();
        let tenant = Uuid::new_v4();
        let token = jwt
            .mint("a@example.com", tenant, &[Role::PayrollClerk], None, 60)
            .unwrap();
        let claims = jwt.verify(&token).unwrap();
        assert_eq!(claims.tenant_id, tenant);
        assert_eq!(claims.roles, vec!["payroll_clerk".to_owned()]);

        // Another secret, a changed payload, a truncated signature.
        let other = JwtConfig::new(&[7u8; 32], DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
        assert!(other.verify(&token).is_err());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_claims = jwt
            .mint("a@example.com", tenant, &[Role::PayrollAdmin], None, 60)
            .unwrap();
        let forged_payload = forged_claims.split('.').nth(1).unwrap().to_owned();
        parts[1] = &forged_payload;
        assert!(jwt.verify(&parts.join(".")).is_err());
        assert!(jwt.verify(&token[..token.len() - 4]).is_err());

        // HS384 is neither signed nor accepted.
        let hs384 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &serde_json::json!({"sub": "x"}),
            &EncodingKey::from_secret(SECRET),
        );
        assert!(hs384.is_err(), "{hs384:?}");
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"HS384","typ":"JWT"}"#);
        let relabelled = format!("{header}.{}.{}", parts[1], token.split('.').nth(2).unwrap());
        assert!(jwt.verify(&relabelled).is_err());
    }
}
