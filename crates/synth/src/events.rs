//! Building single CloudTrail records: identities, the background mix of API calls, and the
//! common envelope every record shares.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::rng::Rng;

/// The account and region a record belongs to, and when it happened.
#[derive(Debug, Clone)]
pub struct Where {
    pub account: String,
    pub region: String,
    pub time: DateTime<Utc>,
}

/// Who made a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    IamUser,
    AssumedRole,
    AwsService,
    FederatedUser,
    WebIdentity,
    IdentityCenter,
}

const WHO_WEIGHTS: &[(Who, f64)] = &[
    (Who::AssumedRole, 55.0),
    (Who::IamUser, 14.0),
    (Who::AwsService, 16.0),
    (Who::IdentityCenter, 8.0),
    (Who::WebIdentity, 4.0),
    (Who::FederatedUser, 3.0),
];

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "deploy-bot",
    "terraform",
    "dave",
    "erin",
];
const ROLES: &[&str] = &[
    "Admin",
    "ReadOnly",
    "ci-deployer",
    "app-server",
    "lambda-exec",
    "k8s-node",
];
const SERVICES: &[&str] = &[
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "autoscaling.amazonaws.com",
    "cloudformation.amazonaws.com",
    "config.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
];
const AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/s3.ls",
    "Boto3/1.34.64 md/Botocore#1.34.64 ua/2.0 os/linux#5.10.210 md/arch#x86_64 lang/python#3.11.8",
    "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.51.4",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.41.0",
    "console.amazonaws.com",
];

/// A random public-looking IPv4 address from the documentation ranges and a few others.
pub fn ip(rng: &mut Rng) -> String {
    let nets = [
        "198.51.100",
        "203.0.113",
        "192.0.2",
        "52.94.133",
        "34.228.4",
    ];
    format!("{}.{}", rng.pick(&nets), 1 + rng.below(253))
}

/// An access key id: `AKIA…` for users, `ASIA…` for temporary credentials.
pub fn access_key(rng: &mut Rng, temporary: bool) -> String {
    let prefix = if temporary { "ASIA" } else { "AKIA" };
    format!(
        "{prefix}{}",
        rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    )
}

fn principal_id(rng: &mut Rng, prefix: &str) -> String {
    format!(
        "{prefix}{}",
        rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17)
    )
}

/// Picks an identity type with the background mix.
pub fn random_who(rng: &mut Rng) -> Who {
    let weights: Vec<f64> = WHO_WEIGHTS.iter().map(|w| w.1).collect();
    WHO_WEIGHTS[rng.weighted(&weights)].0
}

/// A `userIdentity` object of the given type.
pub fn identity(rng: &mut Rng, who: Who, at: &Where, mfa: bool) -> Value {
    let account = &at.account;
    let created = (at.time - chrono::TimeDelta::minutes(5 + rng.below(55) as i64))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    match who {
        Who::IamUser => {
            let user = *rng.pick(USERS);
            json!({
                "type": "IAMUser",
                "principalId": principal_id(rng, "AIDA"),
                "arn": format!("arn:aws:iam::{account}:user/{user}"),
                "accountId": account,
                "accessKeyId": access_key(rng, false),
                "userName": user,
            })
        }
        Who::AssumedRole | Who::IdentityCenter | Who::WebIdentity => {
            let (role, session) = match who {
                Who::IdentityCenter => (
                    format!(
                        "AWSReservedSSO_AdministratorAccess_{}",
                        rng.string(b"0123456789abcdef", 16)
                    ),
                    format!("{}@example.com", rng.pick(USERS)),
                ),
                _ => (
                    rng.pick(ROLES).to_string(),
                    format!("session-{}", rng.below(10_000)),
                ),
            };
            let role_id = principal_id(rng, "AROA");
            let mut ctx = json!({
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {
                    "creationDate": created,
                    "mfaAuthenticated": if mfa { "true" } else { "false" },
                },
            });
            if who == Who::WebIdentity {
                ctx["webIdFederationData"] = json!({
                    "federatedProvider": format!("arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"),
                    "attributes": {},
                });
            }
            json!({
                "type": "AssumedRole",
                "principalId": format!("{role_id}:{session}"),
                "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                "accountId": account,
                "accessKeyId": access_key(rng, true),
                "sessionContext": ctx,
            })
        }
        Who::FederatedUser => {
            let user = *rng.pick(USERS);
            json!({
                "type": "FederatedUser",
                "principalId": format!("{account}:{user}"),
                "arn": format!("arn:aws:sts::{account}:federated-user/{user}"),
                "accountId": account,
                "accessKeyId": access_key(rng, true),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "IAMUser",
                        "principalId": principal_id(rng, "AIDA"),
                        "arn": format!("arn:aws:iam::{account}:user/{user}"),
                        "accountId": account,
                        "userName": user,
                    },
                    "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
                },
            })
        }
        Who::AwsService => json!({"type": "AWSService", "invokedBy": rng.pick(SERVICES)}),
    }
}

/// The envelope shared by every API call record.
pub fn envelope(
    rng: &mut Rng,
    at: &Where,
    user_identity: Value,
    source: &str,
    name: &str,
    read_only: bool,
) -> Map<String, Value> {
    let service = user_identity.get("type").and_then(Value::as_str) == Some("AWSService");
    let (ip, agent) = if service {
        let by = user_identity["invokedBy"]
            .as_str()
            .unwrap_or("aws-internal")
            .to_string();
        (by.clone(), by)
    } else {
        (ip(rng), rng.pick(AGENTS).to_string())
    };
    let mut m = Map::new();
    m.insert(
        "eventVersion".into(),
        json!(if rng.chance(0.8) { "1.09" } else { "1.08" }),
    );
    m.insert("userIdentity".into(), user_identity);
    m.insert(
        "eventTime".into(),
        json!(at.time.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    m.insert("eventSource".into(), json!(source));
    m.insert("eventName".into(), json!(name));
    m.insert("awsRegion".into(), json!(at.region));
    m.insert("sourceIPAddress".into(), json!(ip));
    m.insert("userAgent".into(), json!(agent));
    m.insert("requestParameters".into(), Value::Null);
    m.insert("responseElements".into(), Value::Null);
    m.insert("requestID".into(), json!(rng.uuid()));
    m.insert("eventID".into(), json!(rng.uuid()));
    m.insert("readOnly".into(), json!(read_only));
    m.insert("eventType".into(), json!("AwsApiCall"));
    m.insert("managementEvent".into(), json!(true));
    m.insert("recipientAccountId".into(), json!(at.account));
    m.insert("eventCategory".into(), json!("Management"));
    if !service {
        m.insert(
            "tlsDetails".into(),
            json!({
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": format!("{}.{}.amazonaws.com", source.trim_end_matches(".amazonaws.com"), at.region),
            }),
        );
    }
    m
}

/// One background API call: read-heavy, many services, a heavy-tailed mix of names.
struct Call {
    source: &'static str,
    name: &'static str,
    read_only: bool,
    data: bool,
}

const fn call(source: &'static str, name: &'static str, read_only: bool) -> Call {
    Call {
        source,
        name,
        read_only,
        data: false,
    }
}

const fn data(source: &'static str, name: &'static str, read_only: bool) -> Call {
    Call {
        source,
        name,
        read_only,
        data: true,
    }
}

/// In order of frequency: the weight of the n-th is 1/n^1.1.
const CALLS: &[Call] = &[
    call("sts.amazonaws.com", "AssumeRole", true),
    data("s3.amazonaws.com", "GetObject", true),
    call("kms.amazonaws.com", "Decrypt", true),
    call("ec2.amazonaws.com", "DescribeInstances", true),
    data("s3.amazonaws.com", "PutObject", false),
    call("sts.amazonaws.com", "GetCallerIdentity", true),
    data("lambda.amazonaws.com", "Invoke", false),
    call("logs.amazonaws.com", "CreateLogStream", false),
    call("kms.amazonaws.com", "GenerateDataKey", true),
    call("ssm.amazonaws.com", "GetParameter", true),
    call("s3.amazonaws.com", "ListBuckets", true),
    call("ec2.amazonaws.com", "DescribeSecurityGroups", true),
    call("iam.amazonaws.com", "GetRole", true),
    call("secretsmanager.amazonaws.com", "GetSecretValue", true),
    call("ecr.amazonaws.com", "GetAuthorizationToken", true),
    call(
        "autoscaling.amazonaws.com",
        "DescribeAutoScalingGroups",
        true,
    ),
    call("monitoring.amazonaws.com", "GetMetricData", true),
    call("dynamodb.amazonaws.com", "DescribeTable", true),
    call("s3.amazonaws.com", "GetBucketAcl", true),
    call("ec2.amazonaws.com", "DescribeVpcs", true),
    call("cloudformation.amazonaws.com", "DescribeStacks", true),
    call(
        "elasticloadbalancing.amazonaws.com",
        "DescribeLoadBalancers",
        true,
    ),
    call("lambda.amazonaws.com", "ListFunctions20150331", true),
    call("iam.amazonaws.com", "ListRoles", true),
    call("ec2.amazonaws.com", "CreateTags", false),
    call("rds.amazonaws.com", "DescribeDBInstances", true),
    call("ec2.amazonaws.com", "RunInstances", false),
    call("lambda.amazonaws.com", "GetFunction20150331v2", true),
    call("ec2.amazonaws.com", "TerminateInstances", false),
    call("cloudtrail.amazonaws.com", "LookupEvents", true),
    call("config.amazonaws.com", "DescribeConfigRules", true),
    call("sqs.amazonaws.com", "CreateQueue", false),
    call("sns.amazonaws.com", "Publish", false),
    call("iam.amazonaws.com", "GetUser", true),
    call("s3.amazonaws.com", "GetBucketLocation", true),
    call("ec2.amazonaws.com", "DescribeSubnets", true),
];

fn weights() -> &'static [f64] {
    static W: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
        (1..=CALLS.len())
            .map(|n| 1.0 / (n as f64).powf(1.1))
            .collect()
    });
    &W
}

/// One background record.
pub fn background(rng: &mut Rng, at: &Where) -> Value {
    let c = &CALLS[rng.weighted(weights())];
    let who = if c.name == "AssumeRole" && rng.chance(0.5) {
        Who::AwsService
    } else {
        random_who(rng)
    };
    let mfa = rng.chance(0.3);
    let id = identity(rng, who, at, mfa);
    let mut m = envelope(rng, at, id, c.source, c.name, c.read_only);
    let bucket = format!("app-data-{}", rng.below(12));
    let params = match c.name {
        "GetObject" | "PutObject" => {
            json!({"bucketName": bucket, "key": format!("objects/{}.json", rng.uuid()), "Host": format!("{bucket}.s3.amazonaws.com")})
        }
        "AssumeRole" => {
            json!({"roleArn": format!("arn:aws:iam::{}:role/{}", at.account, rng.pick(ROLES)), "roleSessionName": format!("s{}", rng.below(1000)), "durationSeconds": 3600})
        }
        "Decrypt" | "GenerateDataKey" => {
            json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": format!("arn:aws:kms:{}:{}:key/{}", at.region, at.account, rng.uuid())})
        }
        "Invoke" => {
            json!({"functionName": format!("arn:aws:lambda:{}:{}:function:{}", at.region, at.account, rng.pick(&["orders", "thumbnails", "auth-hook", "etl"])), "invocationType": "RequestResponse"})
        }
        "GetParameter" => {
            json!({"name": format!("/app/{}/db-url", rng.pick(&["prod", "staging"])), "withDecryption": true})
        }
        "RunInstances" => {
            json!({"instanceType": rng.pick(&["t3.micro", "m6i.large", "c7g.xlarge"]), "minCount": 1, "maxCount": 1})
        }
        _ => Value::Null,
    };
    m.insert("requestParameters".into(), params);
    if c.data {
        m.insert("managementEvent".into(), json!(false));
        m.insert("eventCategory".into(), json!("Data"));
        let arn = if c.source == "s3.amazonaws.com" {
            format!("arn:aws:s3:::{bucket}")
        } else {
            format!(
                "arn:aws:lambda:{}:{}:function:orders",
                at.region, at.account
            )
        };
        m.insert("resources".into(), json!([{"accountId": at.account, "type": if c.source == "s3.amazonaws.com" {"AWS::S3::Bucket"} else {"AWS::Lambda::Function"}, "ARN": arn}]));
    }
    if c.name == "AssumeRole" && who == Who::AwsService {
        m.insert("eventType".into(), json!("AwsServiceEvent"));
    }
    if rng.chance(0.025) {
        let (code, msg) = if c.source == "ec2.amazonaws.com" {
            (
                "Client.UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            )
        } else if rng.chance(0.3) {
            ("ThrottlingException", "Rate exceeded")
        } else {
            (
                "AccessDenied",
                "User is not authorized to perform this action",
            )
        };
        m.insert("errorCode".into(), json!(code));
        m.insert("errorMessage".into(), json!(msg));
    }
    Value::Object(m)
}
