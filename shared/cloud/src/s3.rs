//! The `s3://bucket/prefix` backend (aws-sdk-s3).

use crate::{CloudError, ObjectInfo, ObjectReader, ObjectStorage, Result, Upload, check_key};
use aws_config::BehaviorVersion;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration,
};
use bytes::Bytes;

/// Size of one multipart part (S3's minimum is 5 MiB except for the last part). An upload holds
/// at most one part in memory.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// How to reach S3. Unset fields come from the SDK's usual sources (environment, profile, IMDS).
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    /// Another endpoint (moto, MinIO, a VPC endpoint).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers.
    pub force_path_style: bool,
    /// Static credentials (access key id, secret); for tests against an emulator.
    pub credentials: Option<(String, String)>,
}

impl S3Options {
    /// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (path style is then forced), and
    /// `S3_FORCE_PATH_STYLE=true|1`.
    pub fn from_env() -> S3Options {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok()
            .filter(|e| !e.is_empty());
        let forced = std::env::var("S3_FORCE_PATH_STYLE")
            .map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
            .unwrap_or(false);
        S3Options {
            force_path_style: forced || endpoint.is_some(),
            endpoint,
            region: None,
            credentials: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
    /// Without leading or trailing `/`; may be empty.
    prefix: String,
    region: String,
}

fn s3_error<E: std::error::Error>(operation: &'static str, key: &str, e: E) -> CloudError {
    CloudError::S3 {
        operation,
        key: key.to_owned(),
        message: DisplayErrorContext(e).to_string(),
    }
}

impl S3Store {
    pub async fn connect(bucket: &str, prefix: &str, opts: S3Options) -> S3Store {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).http_client(crate::aws_https_client());
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &opts.endpoint {
            loader = loader.endpoint_url(e.clone());
        }
        if let Some((id, secret)) = &opts.credentials {
            loader =
                loader.credentials_provider(Credentials::new(id, secret, None, None, "static"));
        }
        let sdk = loader.load().await;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            .region(Region::new(region.clone()))
            .force_path_style(opts.force_path_style);
        if opts.endpoint.is_some() {
            // S3-compatible servers do not all accept the flexible (CRC) request checksums.
            conf = conf.request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        }
        S3Store {
            client: Client::from_conf(conf.build()),
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            region,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn full_key(&self, key: &str) -> Result<String> {
        check_key(key)?;
        Ok(if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        })
    }

    /// Create the bucket if it does not exist (with a LocationConstraint outside us-east-1).
    /// For tests and first-time setup; production buckets come from the infrastructure template.
    pub async fn ensure_bucket(&self) -> Result<()> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        let mut req = self.client.create_bucket().bucket(&self.bucket);
        if self.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        req.send()
            .await
            .map_err(|e| s3_error("CreateBucket", &self.bucket, e))?;
        Ok(())
    }
}

impl ObjectStorage for S3Store {
    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let full = self.full_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| s3_error("PutObject", &full, e))?;
        Ok(())
    }

    async fn create(&self, key: &str) -> Result<Upload> {
        Ok(Upload::S3(S3Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: self.full_key(key)?,
            buf: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
            size: 0,
        }))
    }

    async fn get(&self, key: &str) -> Result<ObjectReader> {
        let full = self.full_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    CloudError::NotFound(key.to_owned())
                } else {
                    s3_error("GetObject", &full, e)
                }
            })?;
        Ok(Box::pin(out.body.into_async_read()))
    }

    async fn get_bytes(&self, key: &str) -> Result<Vec<u8>> {
        let full = self.full_key(key)?;
        let mut reader = self.get(key).await?;
        let mut out = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut out)
            .await
            .map_err(|e| CloudError::io(format!("read s3://{}/{full}", self.bucket), e))?;
        Ok(out)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let full_prefix = if self.prefix.is_empty() {
            prefix.to_owned()
        } else {
            format!("{}/{prefix}", self.prefix)
        };
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let resp = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| s3_error("ListObjectsV2", &full_prefix, e))?;
            for o in resp.contents() {
                if let Some(k) = o.key()
                    && k.len() > strip
                {
                    out.push(ObjectInfo {
                        key: k[strip..].to_owned(),
                        size: o.size().unwrap_or(0).max(0) as u64,
                    });
                }
            }
            match resp.next_continuation_token() {
                Some(t) if resp.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        for key in keys {
            let full = self.full_key(key)?;
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&full)
                .send()
                .await
                .map_err(|e| s3_error("DeleteObject", &full, e))?;
        }
        Ok(())
    }

    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// A streamed upload: one PutObject when the object fits in one part, else a multipart upload
/// (parts of [`PART_SIZE`] uploaded as they fill).
pub struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    buf: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    size: u64,
}

impl S3Upload {
    pub(crate) async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        self.size += data.len() as u64;
        while !data.is_empty() {
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(PART_SIZE);
            }
            let room = PART_SIZE - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() == PART_SIZE {
                self.upload_part().await?;
            }
        }
        Ok(())
    }

    async fn upload_part(&mut self) -> Result<()> {
        let id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let out = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .send()
                    .await
                    .map_err(|e| s3_error("CreateMultipartUpload", &self.key, e))?;
                let id = out.upload_id().unwrap_or_default().to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = self.parts.len() as i32 + 1;
        let body = Bytes::from(std::mem::take(&mut self.buf));
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error("UploadPart", &self.key, e))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build(),
        );
        Ok(())
    }

    pub(crate) async fn finish(mut self) -> Result<u64> {
        if self.upload_id.is_none() {
            let body = Bytes::from(std::mem::take(&mut self.buf));
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| s3_error("PutObject", &self.key, e))?;
            return Ok(self.size);
        }
        if !self.buf.is_empty()
            && let Err(e) = self.upload_part().await
        {
            self.abort_ref().await;
            return Err(e);
        }
        let id = self.upload_id.clone().unwrap_or_default();
        let done = CompletedMultipartUpload::builder()
            .set_parts(Some(std::mem::take(&mut self.parts)))
            .build();
        let res = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&id)
            .multipart_upload(done)
            .send()
            .await;
        if let Err(e) = res {
            self.abort_ref().await;
            return Err(s3_error("CompleteMultipartUpload", &self.key, e));
        }
        Ok(self.size)
    }

    pub(crate) async fn abort(mut self) {
        self.abort_ref().await;
    }

    async fn abort_ref(&mut self) {
        if let Some(id) = self.upload_id.take() {
            let res = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(&id)
                .send()
                .await;
            if let Err(e) = res {
                tracing::warn!(key = %self.key, error = %DisplayErrorContext(e), "could not abort a multipart upload");
            }
        }
    }
}
