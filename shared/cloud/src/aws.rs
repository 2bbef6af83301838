//! The HTTPS client every AWS SDK client of the service uses (S3 here, SQS in payroll-queue).

use aws_sdk_s3::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{ConnectorBuilder, tls};

/// The SDK's HTTPS client: hyper 1 + rustls with the *ring* crypto provider. The same client as the
/// SDK's `default-https-client` (connect/read timeouts from the SDK config, the runtime's sleep,
/// `HTTPS_PROXY`/`NO_PROXY` from the environment) except for aws-lc, whose C and assembly would
/// add ≈ 2.25 MB to each Lambda binary. It is given to the `aws_config` loader too, so the
/// credentials providers that make requests (STS web identity, IMDS, ECS/EKS container
/// credentials) use it.
pub fn aws_https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}
