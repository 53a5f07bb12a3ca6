//! The S3 options every command takes, for `s3://` sources and lakes.

use std::time::Duration;

use trawl_lake::s3::S3Settings;

/// How to reach S3.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "S3")]
pub struct S3Args {
    /// AWS profile from ~/.aws/credentials and ~/.aws/config. Default: $AWS_PROFILE; without
    /// one, environment keys, then the default profile, then web identity or instance metadata.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Endpoint of an S3-compatible store (MinIO, moto, …). Default: $AWS_ENDPOINT_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub s3_endpoint: Option<String>,

    /// The bucket's region. Default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's.
    #[arg(long, global = true, value_name = "REGION")]
    pub s3_region: Option<String>,

    /// Seconds one S3 request is retried (throttling, 5xx, timeouts) before it fails.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60)]
    pub s3_retry_secs: u64,
}

impl S3Args {
    /// The settings these flags ask for.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            profile: self.profile.clone(),
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            retry_timeout: Duration::from_secs(self.s3_retry_secs),
            ..S3Settings::default()
        }
    }
}
