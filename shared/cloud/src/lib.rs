//! Object storage for backups: the [`ObjectStorage`] trait and its two backends, chosen by URL.
//!
//! - `s3://bucket/prefix` — Amazon S3 (or an S3-compatible endpoint) through aws-sdk-s3. Objects
//!   larger than one part (8 MiB) are written with a multipart upload, so memory stays bounded.
//!   `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` select another endpoint (moto, MinIO); path-style
//!   addressing is then used (or always, with `S3_FORCE_PATH_STYLE=true`).
//! - `file:///path` — a directory on the local disk (the single-machine default). An object is
//!   written to a temporary file and renamed into place when complete, so a reader never sees half
//!   an object.
//!
//! Keys are `/`-separated and relative to the URL's prefix.

mod aws;
mod local;
mod s3;

pub use aws::aws_https_client;

pub use local::{LocalStore, LocalUpload};
pub use s3::{PART_SIZE, S3Options, S3Store, S3Upload};

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use thiserror::Error;
use tokio::io::AsyncRead;

#[derive(Debug, Error)]
pub enum CloudError {
    /// The destination URL is malformed or uses an unknown scheme.
    #[error("invalid storage URL {url:?}: {message}")]
    Url { url: String, message: String },
    /// The object does not exist.
    #[error("object not found: {0}")]
    NotFound(String),
    /// A key that would escape the store's root (`..`, absolute, empty segment).
    #[error("invalid object key {0:?}")]
    Key(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A failure reported by S3 (with the service's error code and message when there is one).
    #[error("S3 {operation} {key}: {message}")]
    S3 {
        operation: &'static str,
        key: String,
        message: String,
    },
}

impl CloudError {
    fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CloudError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, CloudError>;

/// A readable object body, streamed.
pub type ObjectReader = Pin<Box<dyn AsyncRead + Send>>;

/// One stored object as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key, relative to the store's prefix.
    pub key: String,
    pub size: u64,
}

/// What every backend can do.
pub trait ObjectStorage: Send + Sync {
    /// Write a small object in one request.
    fn put(&self, key: &str, data: Bytes) -> impl Future<Output = Result<()>> + Send;
    /// Start a streamed upload; call [`Upload::write`] repeatedly, then [`Upload::finish`].
    fn create(&self, key: &str) -> impl Future<Output = Result<Upload>> + Send;
    /// Stream an object's body.
    fn get(&self, key: &str) -> impl Future<Output = Result<ObjectReader>> + Send;
    /// Read a small object whole.
    fn get_bytes(&self, key: &str) -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// Every object whose key starts with `prefix`, sorted by key.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<ObjectInfo>>> + Send;
    /// Delete objects (missing ones are ignored).
    fn delete(&self, keys: &[String]) -> impl Future<Output = Result<()>> + Send;
    /// A human-readable location (`s3://bucket/prefix`, `file:///path`).
    fn location(&self) -> String;
}

/// A streamed upload in progress. Dropping it without `finish` leaves no visible object (a local
/// temporary file is removed; an S3 multipart upload should be aborted with [`Upload::abort`], and
/// a bucket lifecycle rule cleans up any that are not).
pub enum Upload {
    S3(S3Upload),
    Local(LocalUpload),
}

impl Upload {
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        match self {
            Upload::S3(u) => u.write(data).await,
            Upload::Local(u) => u.write(data).await,
        }
    }

    /// Complete the object; returns its size in bytes.
    pub async fn finish(self) -> Result<u64> {
        match self {
            Upload::S3(u) => u.finish().await,
            Upload::Local(u) => u.finish().await,
        }
    }

    /// Give up: nothing is left behind.
    pub async fn abort(self) {
        match self {
            Upload::S3(u) => u.abort().await,
            Upload::Local(u) => u.abort().await,
        }
    }
}

/// A store chosen at run time from a URL.
#[derive(Clone, Debug)]
pub enum Store {
    S3(S3Store),
    Local(LocalStore),
}

impl Store {
    /// `s3://bucket[/prefix]` (configuration from the environment: region, credentials,
    /// `AWS_ENDPOINT_URL[_S3]`, `S3_FORCE_PATH_STYLE`) or `file:///absolute/path`.
    pub async fn from_url(url: &str) -> Result<Store> {
        Store::from_url_with(url, S3Options::from_env()).await
    }

    /// As [`Store::from_url`], with explicit S3 options.
    pub async fn from_url_with(url: &str, s3: S3Options) -> Result<Store> {
        let bad = |message: &str| CloudError::Url {
            url: url.to_owned(),
            message: message.to_owned(),
        };
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("the bucket name is missing (s3://bucket/prefix)"));
            }
            Ok(Store::S3(S3Store::connect(bucket, prefix, s3).await))
        } else if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad(
                    "a file URL needs an absolute path (file:///var/backups)",
                ));
            }
            Ok(Store::Local(LocalStore::new(path)))
        } else {
            Err(bad("use s3://bucket/prefix or file:///path"))
        }
    }
}

impl ObjectStorage for Store {
    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        match self {
            Store::S3(s) => s.put(key, data).await,
            Store::Local(s) => s.put(key, data).await,
        }
    }
    async fn create(&self, key: &str) -> Result<Upload> {
        match self {
            Store::S3(s) => s.create(key).await,
            Store::Local(s) => s.create(key).await,
        }
    }
    async fn get(&self, key: &str) -> Result<ObjectReader> {
        match self {
            Store::S3(s) => s.get(key).await,
            Store::Local(s) => s.get(key).await,
        }
    }
    async fn get_bytes(&self, key: &str) -> Result<Vec<u8>> {
        match self {
            Store::S3(s) => s.get_bytes(key).await,
            Store::Local(s) => s.get_bytes(key).await,
        }
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        match self {
            Store::S3(s) => s.list(prefix).await,
            Store::Local(s) => s.list(prefix).await,
        }
    }
    async fn delete(&self, keys: &[String]) -> Result<()> {
        match self {
            Store::S3(s) => s.delete(keys).await,
            Store::Local(s) => s.delete(keys).await,
        }
    }
    fn location(&self) -> String {
        match self {
            Store::S3(s) => s.location(),
            Store::Local(s) => s.location(),
        }
    }
}

/// Check a relative key: non-empty `/`-separated segments, none of them `.` or `..`.
pub(crate) fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'));
    if ok {
        Ok(())
    } else {
        Err(CloudError::Key(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn keys_cannot_escape_the_root() {
        assert!(check_key("2026/01/02/030405Z/manifest.json").is_ok());
        for bad in ["", "/abs", "a//b", "../x", "a/./b", "a/..", "a\\b"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn urls_select_the_backend() {
        assert!(matches!(
            Store::from_url("file:///tmp/x").await.unwrap(),
            Store::Local(_)
        ));
        assert!(Store::from_url("file://relative").await.is_err());
        assert!(Store::from_url("ftp://x").await.is_err());
        assert!(Store::from_url("s3:///prefix").await.is_err());
        let s3 = Store::from_url_with("s3://bucket/some/prefix", S3Options::default())
            .await
            .unwrap();
        assert_eq!(s3.location(), "s3://bucket/some/prefix");
    }

    #[tokio::test]
    async fn local_store_round_trip() {
        let dir = std::env::temp_dir().join(format!("cloud-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("file://{}", dir.display());
        let store = Store::from_url(&url).await.unwrap();
        store
            .put("a/b/small", Bytes::from_static(b"hello"))
            .await
            .unwrap();
        let mut up = store.create("a/c/big").await.unwrap();
        for i in 0..100u8 {
            up.write(&[i; 1000]).await.unwrap();
        }
        assert_eq!(up.finish().await.unwrap(), 100_000);
        // An abandoned upload leaves nothing.
        let mut up = store.create("a/d/abandoned").await.unwrap();
        up.write(b"partial").await.unwrap();
        up.abort().await;

        let listed = store.list("a/").await.unwrap();
        assert_eq!(
            listed,
            vec![
                ObjectInfo {
                    key: "a/b/small".into(),
                    size: 5
                },
                ObjectInfo {
                    key: "a/c/big".into(),
                    size: 100_000
                },
            ]
        );
        assert_eq!(store.get_bytes("a/b/small").await.unwrap(), b"hello");
        let mut body = Vec::new();
        store
            .get("a/c/big")
            .await
            .unwrap()
            .read_to_end(&mut body)
            .await
            .unwrap();
        assert_eq!(body.len(), 100_000);
        assert_eq!(body[99_999], 99);
        assert!(matches!(
            store.get("a/missing").await,
            Err(CloudError::NotFound(_))
        ));
        store
            .delete(&["a/b/small".into(), "a/missing".into()])
            .await
            .unwrap();
        assert_eq!(store.list("").await.unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
