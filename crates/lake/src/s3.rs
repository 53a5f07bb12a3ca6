//! Reaching S3 the way AWS users expect: credentials from the environment, from a profile of
//! `~/.aws/credentials` and `~/.aws/config` (`--profile`, `AWS_PROFILE`), from web identity or
//! instance metadata (object_store's own chain); an endpoint for S3-compatible stores
//! (`--s3-endpoint`, `AWS_ENDPOINT_URL`); the region from flags, environment or profile.
//! Secrets never appear in messages.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, RetryConfig};

/// How to reach S3, from the command line; the environment and `~/.aws` fill the rest.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// A profile of `~/.aws/credentials` / `~/.aws/config`; default `$AWS_PROFILE`.
    pub profile: Option<String>,
    /// An S3-compatible endpoint; default `$AWS_ENDPOINT_URL_S3`, `$AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// The bucket's region; default `$AWS_REGION`, `$AWS_DEFAULT_REGION`, the profile's.
    pub region: Option<String>,
    /// How long one request is retried (throttling, 5xx, timeouts) before it fails.
    pub retry_timeout: Duration,
    /// At most this many retries of one request.
    pub max_retries: usize,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            profile: None,
            endpoint: None,
            region: None,
            retry_timeout: Duration::from_secs(60),
            max_retries: 8,
        }
    }
}

/// An `s3://bucket/prefix` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without a leading `/`; empty for the whole bucket.
    pub prefix: String,
}

impl S3Url {
    /// Reads `s3://bucket[/prefix]`; anything else is `None`.
    pub fn parse(text: &str) -> Option<S3Url> {
        let rest = text
            .strip_prefix("s3://")
            .or_else(|| text.strip_prefix("s3a://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.trim_start_matches('/').to_string(),
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Why a store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The profile named is in neither file.
    #[error("AWS profile `{0}` is in neither ~/.aws/credentials nor ~/.aws/config")]
    NoProfile(String),
    /// object_store refused the settings.
    #[error("s3://{bucket}: {message}")]
    Setup { bucket: String, message: String },
}

/// A store for `bucket` with `settings`.
pub fn store(bucket: &str, settings: &S3Settings) -> Result<Arc<dyn ObjectStore>, S3Error> {
    let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let profile_name = settings.profile.clone().or_else(|| env("AWS_PROFILE"));
    let profile = match &profile_name {
        Some(name) => Some(read_profile(name)?.ok_or_else(|| S3Error::NoProfile(name.clone()))?),
        // Without a profile named, the default one is used only when the environment has no
        // keys, as the AWS CLI does.
        None if env("AWS_ACCESS_KEY_ID").is_none() => read_profile("default")?,
        None => None,
    };
    if let (Some(name), Some(p)) = (&profile_name, &profile)
        && !p.contains_key("aws_access_key_id")
        && let Some(kind) = [
            "role_arn",
            "sso_session",
            "sso_start_url",
            "credential_process",
        ]
        .into_iter()
        .find(|k| p.contains_key(*k))
    {
        return Err(S3Error::Setup {
            bucket: bucket.to_string(),
            message: format!(
                "AWS profile `{name}` gets its credentials through `{kind}`, which trawl does \
                 not read yet; run with them exported: eval \"$(aws configure \
                 export-credentials --profile {name} --format env)\""
            ),
        });
    }
    if let Some(p) = &profile {
        let explicit = settings.profile.is_some() || env("AWS_ACCESS_KEY_ID").is_none();
        if let (Some(id), Some(secret), true) = (
            p.get("aws_access_key_id"),
            p.get("aws_secret_access_key"),
            explicit,
        ) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
            if let Some(token) = p.get("aws_session_token") {
                b = b.with_token(token);
            }
        }
    }
    let region = settings
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| profile.as_ref().and_then(|p| p.get("region").cloned()));
    if let Some(r) = region {
        b = b.with_region(r);
    }
    let endpoint = settings
        .endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| {
            profile
                .as_ref()
                .and_then(|p| p.get("endpoint_url").cloned())
        });
    if let Some(e) = endpoint {
        b = b
            .with_allow_http(e.starts_with("http://"))
            .with_endpoint(e)
            .with_virtual_hosted_style_request(false);
    }
    b = b.with_retry(RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: settings.max_retries,
        retry_timeout: settings.retry_timeout,
    });
    let s3 = b.build().map_err(|e| S3Error::Setup {
        bucket: bucket.to_string(),
        message: e.to_string(),
    })?;
    Ok(Arc::new(s3))
}

/// The settings of profile `name`: `~/.aws/credentials` `[name]` over `~/.aws/config`
/// `[profile name]` (`[default]` for the default). `None` when neither file has it.
fn read_profile(name: &str) -> Result<Option<HashMap<String, String>>, S3Error> {
    let home = dirs_home();
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let config_section = if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    };
    let mut found = None;
    for (path, section) in [
        (file("AWS_CONFIG_FILE", "config"), config_section.as_str()),
        (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), name),
    ] {
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        if let Some(values) = ini_section(&text, section) {
            found.get_or_insert_with(HashMap::new).extend(values);
        }
    }
    Ok(found)
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The `key = value` pairs of `[section]` in INI text, keys lower-cased.
fn ini_section(text: &str, section: &str) -> Option<HashMap<String, String>> {
    let mut current: Option<bool> = None;
    let mut values: Option<HashMap<String, String>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let here = name.trim() == section;
            current = Some(here);
            if here {
                values.get_or_insert_with(HashMap::new);
            }
            continue;
        }
        if current == Some(true)
            && let Some((k, v)) = line.split_once('=')
        {
            values
                .get_or_insert_with(HashMap::new)
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    values
}

/// Turns an object_store error into a message that names the bucket and key and says what to
/// do.
pub fn explain(error: &object_store::Error, what: &str) -> String {
    let text = error.to_string();
    let hint = if matches!(error, object_store::Error::NotFound { .. })
        || text.contains("NoSuchBucket")
    {
        "it does not exist: check the bucket and prefix"
    } else if text.contains("PermanentRedirect")
        || text.contains("301 Moved")
        || text.contains("AuthorizationHeaderMalformed")
    {
        "the bucket is in another region: pass --s3-region (or set AWS_REGION)"
    } else if matches!(error, object_store::Error::PermissionDenied { .. })
        || text.contains("AccessDenied")
        || text.contains("403 Forbidden")
    {
        "access denied: the credentials in use may not do this (s3:ListBucket, s3:GetObject, s3:PutObject); check the policy, --profile or AWS_PROFILE"
    } else if matches!(error, object_store::Error::Unauthenticated { .. })
        || text.contains("InvalidAccessKeyId")
        || text.contains("SignatureDoesNotMatch")
        || text.contains("credential")
    {
        "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run where web identity or instance metadata provides them"
    } else if text.contains("error sending request")
        || text.contains("connect")
        || text.contains("dns")
    {
        "the endpoint cannot be reached: check --s3-endpoint (AWS_ENDPOINT_URL) and the network"
    } else {
        "the request failed after retries"
    };
    format!("{what}: {hint} ({text})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_urls() {
        assert_eq!(
            S3Url::parse("s3://trail-logs/org/AWSLogs/"),
            Some(S3Url {
                bucket: "trail-logs".into(),
                prefix: "org/AWSLogs/".into()
            })
        );
        assert_eq!(S3Url::parse("s3://b").unwrap().prefix, "");
        assert_eq!(S3Url::parse("s3:///x"), None);
        assert_eq!(S3Url::parse("/data/AWSLogs"), None);
    }

    #[test]
    fn reads_profiles_from_ini() {
        let text = "[default]\naws_access_key_id = A\n\n[profile audit]\nregion = eu-west-1\n\
                    # comment\nAWS_SECRET_ACCESS_KEY=s\n[other]\nregion=x\n";
        let audit = ini_section(text, "profile audit").unwrap();
        assert_eq!(audit["region"], "eu-west-1");
        assert_eq!(audit["aws_secret_access_key"], "s");
        assert_eq!(
            ini_section(text, "default").unwrap()["aws_access_key_id"],
            "A"
        );
        assert!(ini_section(text, "missing").is_none());
    }
}
