use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict, with a message for the caller.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Bad input detected by the store (e.g. a foreign key to another tenant's object).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// `If-Match` did not match the current version.
    #[error("precondition failed: the resource changed (current ETag {current})")]
    Stale { current: String },
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("encryption: {0}")]
    Crypto(String),
    #[error("configuration: {0}")]
    Config(String),
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Pool(e.to_string())
    }
}
