//! Planted events: one scenario per detection the saved queries make, and near misses that a
//! correct detection must not report. Every generated lake holds each of them, at times spread
//! over the generated span, and the manifest names their eventIDs.

use serde_json::{Value, json};

use crate::events::{Where, Who, envelope, identity, ip};
use crate::rng::Rng;

/// A planted record as listed in the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Planted {
    /// The scenario, e.g. `root_console_login_no_mfa`.
    pub scenario: &'static str,
    /// Whether a detection must *not* report it.
    pub near_miss: bool,
    /// The planted record's eventID.
    pub event_id: String,
    /// Its eventName.
    pub event_name: String,
    /// Its eventTime.
    pub event_time: String,
    /// Its region.
    pub region: String,
}

type Build = fn(&mut Rng, &Where) -> Vec<Value>;

/// Every scenario: name, whether it is a near miss, and how to build its records.
pub const SCENARIOS: &[(&str, bool, Build)] = &[
    (
        "root_console_login_no_mfa",
        false,
        root_console_login_no_mfa,
    ),
    ("root_api_call", false, root_api_call),
    ("root_invoked_by_service", true, root_invoked_by_service),
    ("root_service_event", true, root_service_event),
    ("console_login_no_mfa", false, console_login_no_mfa),
    ("console_login_with_mfa", true, console_login_with_mfa),
    ("console_login_failure", false, console_login_failure),
    ("unauthorized_api_call", false, unauthorized_api_call),
    ("iam_policy_change", false, iam_policy_change),
    ("iam_read_only", true, iam_read_only),
    ("cloudtrail_change", false, cloudtrail_change),
    ("cloudtrail_read_only", true, cloudtrail_read_only),
    ("kms_key_disabled_or_deleted", false, kms_key_disabled),
    ("s3_bucket_policy_change", false, s3_bucket_policy_change),
    ("config_change", false, config_change),
    ("security_group_change", false, security_group_change),
    ("nacl_change", false, nacl_change),
    ("network_gateway_change", false, network_gateway_change),
    ("route_table_change", false, route_table_change),
    ("vpc_change", false, vpc_change),
    ("organizations_change", false, organizations_change),
    ("lambda_permission_public", false, lambda_permission_public),
    (
        "lambda_permission_foreign_account",
        false,
        lambda_permission_foreign,
    ),
    (
        "lambda_permission_same_account_service",
        true,
        lambda_permission_service,
    ),
    (
        "lambda_function_created_deleted",
        false,
        lambda_created_deleted,
    ),
    ("lambda_code_or_config_updated", false, lambda_updated),
    (
        "lambda_event_source_mapping",
        false,
        lambda_event_source_mapping,
    ),
    (
        "s3_notification_to_lambda",
        false,
        s3_notification_to_lambda,
    ),
    ("lambda_url_auth_none", false, lambda_url_auth_none),
    ("lambda_url_auth_iam", true, lambda_url_auth_iam),
    ("lambda_layer_added", false, lambda_layer_added),
    ("iam_persistence", false, iam_persistence),
    ("defense_evasion", false, defense_evasion),
    (
        "cross_account_assume_role",
        false,
        cross_account_assume_role,
    ),
    ("access_denied_burst", false, access_denied_burst),
];

/// The access key whose activity the incident-response scenarios follow.
pub const SUSPECT_ACCESS_KEY: &str = "AKIAPLANTEDSUSPECT01";
/// The foreign account in cross-account scenarios.
pub const FOREIGN_ACCOUNT: &str = "999988887777";

fn call(rng: &mut Rng, at: &Where, who: Who, source: &str, name: &str, params: Value) -> Value {
    let id = identity(rng, who, at, false);
    let mut m = envelope(rng, at, id, source, name, false);
    m.insert("requestParameters".into(), params);
    Value::Object(m)
}

/// One call of each name, all from the same kind of principal with the same parameters.
fn calls(
    rng: &mut Rng,
    at: &Where,
    who: Who,
    source: &str,
    names: &[&str],
    params: Value,
) -> Vec<Value> {
    names
        .iter()
        .map(|n| call(rng, at, who, source, n, params.clone()))
        .collect()
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn root(at: &Where) -> Value {
    json!({
        "type": "Root",
        "principalId": at.account,
        "arn": format!("arn:aws:iam::{}:root", at.account),
        "accountId": at.account,
        "accessKeyId": "",
    })
}

fn console_login(rng: &mut Rng, at: &Where, user_identity: Value, mfa: &str, ok: bool) -> Value {
    let mut m = envelope(
        rng,
        at,
        user_identity,
        "signin.amazonaws.com",
        "ConsoleLogin",
        false,
    );
    m.insert("eventType".into(), json!("AwsConsoleSignIn"));
    m.insert(
        "responseElements".into(),
        json!({"ConsoleLogin": if ok { "Success" } else { "Failure" }}),
    );
    m.insert(
        "additionalEventData".into(),
        json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa}),
    );
    if !ok {
        m.insert("errorMessage".into(), json!("Failed authentication"));
    }
    m.remove("tlsDetails");
    Value::Object(m)
}

fn root_console_login_no_mfa(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![console_login(rng, at, root(at), "No", true)]
}

fn root_api_call(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let mut m = envelope(
        rng,
        at,
        root(at),
        "iam.amazonaws.com",
        "CreateAccessKey",
        false,
    );
    m.insert("requestParameters".into(), json!({}));
    vec![Value::Object(m)]
}

fn root_invoked_by_service(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let mut id = root(at);
    id["invokedBy"] = json!("support.amazonaws.com");
    vec![Value::Object(envelope(
        rng,
        at,
        id,
        "support.amazonaws.com",
        "DescribeCases",
        true,
    ))]
}

fn root_service_event(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let mut m = envelope(
        rng,
        at,
        root(at),
        "health.amazonaws.com",
        "AWSHealthEvent",
        true,
    );
    m.insert("eventType".into(), json!("AwsServiceEvent"));
    m.insert(
        "serviceEventDetails".into(),
        json!({"eventTypeCode": "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED"}),
    );
    vec![Value::Object(m)]
}

fn console_login_no_mfa(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let id = identity(rng, Who::IamUser, at, false);
    vec![console_login(rng, at, id, "No", true)]
}

fn console_login_with_mfa(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let id = identity(rng, Who::IamUser, at, true);
    vec![console_login(rng, at, id, "Yes", true)]
}

fn console_login_failure(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let id = identity(rng, Who::IamUser, at, false);
    vec![console_login(rng, at, id, "No", false)]
}

fn unauthorized_api_call(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let v = call(
        rng,
        at,
        Who::IamUser,
        "s3.amazonaws.com",
        "GetBucketPolicy",
        json!({"bucketName": "finance-reports"}),
    );
    let v = with(v, "errorCode", json!("AccessDenied"));
    vec![with(v, "errorMessage", json!("Access Denied"))]
}

fn iam_policy_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "iam.amazonaws.com",
        &[
            "PutUserPolicy",
            "AttachRolePolicy",
            "CreatePolicyVersion",
            "DeleteGroupPolicy",
        ],
        json!({"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    )
}

fn iam_read_only(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let v = call(
        rng,
        at,
        Who::AssumedRole,
        "iam.amazonaws.com",
        "GetPolicyVersion",
        json!({"versionId": "v1"}),
    );
    vec![with(v, "readOnly", json!(true))]
}

fn cloudtrail_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "cloudtrail.amazonaws.com",
        &[
            "StopLogging",
            "UpdateTrail",
            "DeleteTrail",
            "CreateTrail",
            "StartLogging",
        ],
        json!({"name": "org-trail"}),
    )
}

fn cloudtrail_read_only(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let v = call(
        rng,
        at,
        Who::AssumedRole,
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
        json!({}),
    );
    vec![with(v, "readOnly", json!(true))]
}

fn kms_key_disabled(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let key = format!(
        "arn:aws:kms:{}:{}:key/{}",
        at.region,
        at.account,
        rng.uuid()
    );
    vec![
        call(
            rng,
            at,
            Who::AssumedRole,
            "kms.amazonaws.com",
            "DisableKey",
            json!({"keyId": key}),
        ),
        call(
            rng,
            at,
            Who::AssumedRole,
            "kms.amazonaws.com",
            "ScheduleKeyDeletion",
            json!({"keyId": key, "pendingWindowInDays": 7}),
        ),
    ]
}

fn s3_bucket_policy_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::IamUser,
        "s3.amazonaws.com",
        &[
            "PutBucketPolicy",
            "PutBucketAcl",
            "DeleteBucketPolicy",
            "PutBucketCors",
            "DeleteBucketLifecycle",
        ],
        json!({"bucketName": "public-assets", "Host": "public-assets.s3.amazonaws.com"}),
    )
}

fn config_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "config.amazonaws.com",
        &[
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
        ],
        json!({"configurationRecorderName": "default"}),
    )
}

fn security_group_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "ec2.amazonaws.com",
        &[
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ],
        json!({"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
    )
}

fn nacl_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "ec2.amazonaws.com",
        &[
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ],
        json!({"networkAclId": "acl-0abc"}),
    )
}

fn network_gateway_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "ec2.amazonaws.com",
        &[
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        ],
        json!({"internetGatewayId": "igw-0abc"}),
    )
}

fn route_table_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "ec2.amazonaws.com",
        &[
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
        ],
        json!({"routeTableId": "rtb-0abc", "destinationCidrBlock": "0.0.0.0/0"}),
    )
}

fn vpc_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "ec2.amazonaws.com",
        &[
            "CreateVpc",
            "DeleteVpc",
            "ModifyVpcAttribute",
            "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
            "RejectVpcPeeringConnection",
            "AttachClassicLinkVpc",
            "DetachClassicLinkVpc",
            "DisableVpcClassicLink",
            "EnableVpcClassicLink",
        ],
        json!({"vpcId": "vpc-0abc"}),
    )
}

fn organizations_change(rng: &mut Rng, at: &Where) -> Vec<Value> {
    calls(
        rng,
        at,
        Who::AssumedRole,
        "organizations.amazonaws.com",
        &[
            "CreateAccount",
            "InviteAccountToOrganization",
            "LeaveOrganization",
            "AttachPolicy",
            "DeleteOrganizationalUnit",
            "UpdatePolicy",
        ],
        json!({}),
    )
}

fn add_permission(
    rng: &mut Rng,
    at: &Where,
    principal: &str,
    source_account: Option<&str>,
) -> Value {
    let mut params = json!({
        "functionName": format!("arn:aws:lambda:{}:{}:function:orders", at.region, at.account),
        "statementId": format!("stmt-{}", rng.below(1000)),
        "action": "lambda:InvokeFunction",
        "principal": principal,
    });
    if let Some(a) = source_account {
        params["sourceAccount"] = json!(a);
    }
    call(
        rng,
        at,
        Who::AssumedRole,
        "lambda.amazonaws.com",
        "AddPermission20150331v2",
        params,
    )
}

fn lambda_permission_public(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![add_permission(rng, at, "*", None)]
}

fn lambda_permission_foreign(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![add_permission(
        rng,
        at,
        &format!("arn:aws:iam::{FOREIGN_ACCOUNT}:root"),
        None,
    )]
}

fn lambda_permission_service(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let account = at.account.clone();
    vec![add_permission(rng, at, "s3.amazonaws.com", Some(&account))]
}

fn lambda_created_deleted(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![
        call(
            rng,
            at,
            Who::AssumedRole,
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            json!({"functionName": "exfil-helper", "runtime": "python3.12", "role": format!("arn:aws:iam::{}:role/lambda-exec", at.account), "handler": "index.handler"}),
        ),
        call(
            rng,
            at,
            Who::AssumedRole,
            "lambda.amazonaws.com",
            "DeleteFunction20150331",
            json!({"functionName": "old-report"}),
        ),
    ]
}

fn lambda_updated(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![
        call(
            rng,
            at,
            Who::AssumedRole,
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            json!({"functionName": "orders", "zipFile": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        ),
        call(
            rng,
            at,
            Who::AssumedRole,
            "lambda.amazonaws.com",
            "UpdateFunctionConfiguration20150331v2",
            json!({"functionName": "orders", "environment": {}}),
        ),
    ]
}

fn lambda_event_source_mapping(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![call(
        rng,
        at,
        Who::AssumedRole,
        "lambda.amazonaws.com",
        "CreateEventSourceMapping20150331",
        json!({"functionName": "orders", "eventSourceArn": format!("arn:aws:sqs:{}:{}:orders", at.region, at.account)}),
    )]
}

fn s3_notification_to_lambda(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let f = format!(
        "arn:aws:lambda:{}:{}:function:thumbnails",
        at.region, at.account
    );
    vec![call(
        rng,
        at,
        Who::AssumedRole,
        "s3.amazonaws.com",
        "PutBucketNotificationConfiguration",
        json!({"bucketName": "uploads", "NotificationConfiguration": {"CloudFunctionConfiguration": {"CloudFunction": f, "Event": "s3:ObjectCreated:*", "Id": "thumbs"}}}),
    )]
}

fn lambda_url_auth_none(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![call(
        rng,
        at,
        Who::AssumedRole,
        "lambda.amazonaws.com",
        "CreateFunctionUrlConfig20211031",
        json!({"functionName": "orders", "authType": "NONE"}),
    )]
}

fn lambda_url_auth_iam(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![call(
        rng,
        at,
        Who::AssumedRole,
        "lambda.amazonaws.com",
        "CreateFunctionUrlConfig20211031",
        json!({"functionName": "internal", "authType": "AWS_IAM"}),
    )]
}

fn lambda_layer_added(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let layer = format!(
        "arn:aws:lambda:{}:{FOREIGN_ACCOUNT}:layer:helper:3",
        at.region
    );
    vec![
        call(
            rng,
            at,
            Who::AssumedRole,
            "lambda.amazonaws.com",
            "PublishLayerVersion20181031",
            json!({"layerName": "helper"}),
        ),
        call(
            rng,
            at,
            Who::AssumedRole,
            "lambda.amazonaws.com",
            "UpdateFunctionConfiguration20150331v2",
            json!({"functionName": "auth-hook", "layers": [layer]}),
        ),
    ]
}

fn suspect(rng: &mut Rng, at: &Where, source: &str, name: &str, params: Value) -> Value {
    let mut v = call(rng, at, Who::IamUser, source, name, params);
    v["userIdentity"]["accessKeyId"] = json!(SUSPECT_ACCESS_KEY);
    v["userIdentity"]["userName"] = json!("ci-legacy");
    v["userIdentity"]["arn"] = json!(format!("arn:aws:iam::{}:user/ci-legacy", at.account));
    v["sourceIPAddress"] = json!("185.220.101.45");
    v["userAgent"] = json!("python-requests/2.31.0");
    v
}

fn iam_persistence(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![
        suspect(
            rng,
            at,
            "iam.amazonaws.com",
            "CreateUser",
            json!({"userName": "backup-admin"}),
        ),
        suspect(
            rng,
            at,
            "iam.amazonaws.com",
            "CreateAccessKey",
            json!({"userName": "backup-admin"}),
        ),
        suspect(
            rng,
            at,
            "iam.amazonaws.com",
            "CreateLoginProfile",
            json!({"userName": "backup-admin", "passwordResetRequired": false}),
        ),
        suspect(
            rng,
            at,
            "iam.amazonaws.com",
            "UpdateAssumeRolePolicy",
            json!({"roleName": "Admin", "policyDocument": format!("{{\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"arn:aws:iam::{FOREIGN_ACCOUNT}:root\"}},\"Action\":\"sts:AssumeRole\"}}]}}")}),
        ),
    ]
}

fn defense_evasion(rng: &mut Rng, at: &Where) -> Vec<Value> {
    vec![
        suspect(
            rng,
            at,
            "guardduty.amazonaws.com",
            "DeleteDetector",
            json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
        ),
        suspect(
            rng,
            at,
            "cloudtrail.amazonaws.com",
            "StopLogging",
            json!({"name": "org-trail"}),
        ),
        suspect(
            rng,
            at,
            "config.amazonaws.com",
            "StopConfigurationRecorder",
            json!({"configurationRecorderName": "default"}),
        ),
        suspect(
            rng,
            at,
            "logs.amazonaws.com",
            "DeleteLogGroup",
            json!({"logGroupName": "/aws/lambda/orders"}),
        ),
    ]
}

fn cross_account_assume_role(rng: &mut Rng, at: &Where) -> Vec<Value> {
    let id = json!({
        "type": "AWSAccount",
        "principalId": format!("AIDA{}", rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 17)),
        "accountId": FOREIGN_ACCOUNT,
    });
    let mut m = envelope(rng, at, id, "sts.amazonaws.com", "AssumeRole", false);
    m.insert("requestParameters".into(), json!({"roleArn": format!("arn:aws:iam::{}:role/Admin", at.account), "roleSessionName": "x"}));
    m.insert("sourceIPAddress".into(), json!(ip(rng)));
    vec![Value::Object(m)]
}

fn access_denied_burst(rng: &mut Rng, at: &Where) -> Vec<Value> {
    (0..25)
        .map(|i| {
            let mut at = at.clone();
            at.time += chrono::TimeDelta::seconds(i * 7);
            let v = suspect(
                rng,
                &at,
                "s3.amazonaws.com",
                "ListObjects",
                json!({"bucketName": format!("bucket-{i}")}),
            );
            let v = with(v, "errorCode", json!("AccessDenied"));
            with(v, "errorMessage", json!("Access Denied"))
        })
        .collect()
}
