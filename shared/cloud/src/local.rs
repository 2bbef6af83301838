//! The `file:///path` backend: objects are files under a root directory.

use crate::{CloudError, ObjectInfo, ObjectReader, ObjectStorage, Result, Upload, check_key};
use bytes::Bytes;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncWriteExt, BufWriter};

/// Suffix of a file being written (renamed away when complete; never listed).
const PARTIAL: &str = ".partial";

#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

async fn create_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| CloudError::io(format!("create {}", dir.display()), e))?;
    }
    Ok(())
}

fn not_found_or(key: &str, context: String, e: std::io::Error) -> CloudError {
    if e.kind() == std::io::ErrorKind::NotFound {
        CloudError::NotFound(key.to_owned())
    } else {
        CloudError::io(context, e)
    }
}

impl ObjectStorage for LocalStore {
    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let mut up = self.create(key).await?;
        up.write(&data).await?;
        up.finish().await.map(|_| ())
    }

    async fn create(&self, key: &str) -> Result<Upload> {
        let path = self.path(key)?;
        create_parent(&path).await?;
        let tmp = PathBuf::from(format!("{}{PARTIAL}", path.display()));
        let file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| CloudError::io(format!("create {}", tmp.display()), e))?;
        Ok(Upload::Local(LocalUpload {
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            tmp,
            path,
            size: 0,
        }))
    }

    async fn get(&self, key: &str) -> Result<ObjectReader> {
        let path = self.path(key)?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| not_found_or(key, format!("open {}", path.display()), e))?;
        Ok(Box::pin(tokio::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    }

    async fn get_bytes(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        tokio::fs::read(&path)
            .await
            .map_err(|e| not_found_or(key, format!("read {}", path.display()), e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            walk(&root, "", &prefix, &mut out)?;
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| CloudError::io("list", std::io::Error::other(e)))?
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        for key in keys {
            let path = self.path(key)?;
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(CloudError::io(format!("delete {}", path.display()), e)),
            }
            // Remove directories left empty, up to the root (best effort).
            let mut dir = path.parent();
            while let Some(d) = dir {
                if d == self.root || std::fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
        Ok(())
    }

    fn location(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

/// Collect the files under `dir` (key prefix `rel`) whose keys start with `prefix`.
fn walk(dir: &Path, rel: &str, prefix: &str, out: &mut Vec<ObjectInfo>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(CloudError::io(format!("list {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| CloudError::io(format!("list {}", dir.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let meta = entry
            .metadata()
            .map_err(|e| CloudError::io(format!("stat {}", entry.path().display()), e))?;
        if meta.is_dir() {
            // Descend only where keys with the prefix can be.
            let dir_key = format!("{key}/");
            if dir_key.starts_with(prefix) || prefix.starts_with(&dir_key) {
                walk(&entry.path(), &key, prefix, out)?;
            }
        } else if meta.is_file() && !name.ends_with(PARTIAL) && key.starts_with(prefix) {
            out.push(ObjectInfo {
                key,
                size: meta.len(),
            });
        }
    }
    Ok(())
}

/// A file being written; renamed into place by `finish`.
pub struct LocalUpload {
    file: Option<BufWriter<tokio::fs::File>>,
    tmp: PathBuf,
    path: PathBuf,
    size: u64,
}

impl LocalUpload {
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Err(CloudError::io(
                "write",
                std::io::Error::other("upload closed"),
            ));
        };
        file.write_all(data)
            .await
            .map_err(|e| CloudError::io(format!("write {}", self.tmp.display()), e))?;
        self.size += data.len() as u64;
        Ok(())
    }

    pub(crate) async fn finish(mut self) -> Result<u64> {
        let Some(mut file) = self.file.take() else {
            return Err(CloudError::io(
                "finish",
                std::io::Error::other("upload closed"),
            ));
        };
        let ctx = |what: &str| format!("{what} {}", self.tmp.display());
        file.flush()
            .await
            .map_err(|e| CloudError::io(ctx("flush"), e))?;
        file.get_ref()
            .sync_all()
            .await
            .map_err(|e| CloudError::io(ctx("sync"), e))?;
        drop(file);
        tokio::fs::rename(&self.tmp, &self.path)
            .await
            .map_err(|e| CloudError::io(ctx("rename"), e))?;
        Ok(self.size)
    }

    pub(crate) async fn abort(mut self) {
        self.file.take();
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }
}

impl Drop for LocalUpload {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
