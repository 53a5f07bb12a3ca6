//! The `cloudtrail` table: one declarative tree drives the Arrow schema, the decoder and the
//! exporter, so the three can never disagree.
//!
//! Column names follow Athena's CloudTrail table (CloudTrail's keys lower-cased). Where a value
//! in a source record does not fit its column (an unknown key, a wrong JSON type, an explicit
//! `null`, an `eventTime` in a non-canonical format), the original is kept in the
//! [`UNMAPPED_COLUMN`] so that the record can be given back exactly.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// How a CloudTrail value is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string, stored as UTF-8 text.
    Text,
    /// A JSON boolean.
    Bool,
    /// A UTC instant (`eventTime`), stored as microseconds so every engine reads it.
    Timestamp,
    /// A free-form JSON value, stored as compact JSON text.
    Json,
    /// A JSON object with known keys.
    Struct(&'static [FieldDef]),
    /// A JSON array of objects with known keys.
    StructList(&'static [FieldDef]),
}

/// One known CloudTrail key and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The key exactly as CloudTrail writes it (`userIdentity`, `ARN`).
    pub key: &'static str,
    /// How its value is stored.
    pub kind: Kind,
}

impl FieldDef {
    /// The column name: the CloudTrail key lower-cased, as Athena names it.
    pub fn column(&self) -> String {
        self.key.to_ascii_lowercase()
    }
}

const fn f(key: &'static str, kind: Kind) -> FieldDef {
    FieldDef { key, kind }
}

use Kind::{Bool, Json, Struct, StructList, Text, Timestamp};

const ON_BEHALF_OF: &[FieldDef] = &[f("userId", Text), f("identityStoreArn", Text)];

const SESSION_ATTRIBUTES: &[FieldDef] = &[f("mfaAuthenticated", Text), f("creationDate", Text)];

const SESSION_ISSUER: &[FieldDef] = &[
    f("type", Text),
    f("principalId", Text),
    f("arn", Text),
    f("accountId", Text),
    f("userName", Text),
];

const WEB_ID_FEDERATION: &[FieldDef] = &[f("federatedProvider", Text), f("attributes", Json)];

const SESSION_CONTEXT: &[FieldDef] = &[
    f("attributes", Struct(SESSION_ATTRIBUTES)),
    f("sessionIssuer", Struct(SESSION_ISSUER)),
    f("webIdFederationData", Struct(WEB_ID_FEDERATION)),
    f("sourceIdentity", Text),
    f("ec2RoleDelivery", Text),
    f("assumedRoot", Text),
    f("signinSessionArn", Text),
];

const USER_IDENTITY: &[FieldDef] = &[
    f("type", Text),
    f("principalId", Text),
    f("arn", Text),
    f("accountId", Text),
    f("invokedBy", Text),
    f("accessKeyId", Text),
    f("userName", Text),
    f("onBehalfOf", Struct(ON_BEHALF_OF)),
    f("credentialId", Text),
    f("identityProvider", Text),
    f("sessionContext", Struct(SESSION_CONTEXT)),
];

const RESOURCE: &[FieldDef] = &[f("ARN", Text), f("accountId", Text), f("type", Text)];

const ADDENDUM: &[FieldDef] = &[
    f("reason", Text),
    f("updatedFields", Text),
    f("originalRequestID", Text),
    f("originalEventID", Text),
];

const TLS_DETAILS: &[FieldDef] = &[
    f("tlsVersion", Text),
    f("cipherSuite", Text),
    f("clientProvidedHostHeader", Text),
    f("keyExchange", Text),
];

/// The top-level keys of a CloudTrail record, in Athena's column order.
pub const RECORD: &[FieldDef] = &[
    f("eventVersion", Text),
    f("userIdentity", Struct(USER_IDENTITY)),
    f("eventTime", Timestamp),
    f("eventSource", Text),
    f("eventName", Text),
    f("awsRegion", Text),
    f("sourceIPAddress", Text),
    f("userAgent", Text),
    f("errorCode", Text),
    f("errorMessage", Text),
    f("requestParameters", Json),
    f("responseElements", Json),
    f("additionalEventData", Json),
    f("requestID", Text),
    f("eventID", Text),
    f("readOnly", Bool),
    f("resources", StructList(RESOURCE)),
    f("eventType", Text),
    f("apiVersion", Text),
    f("managementEvent", Bool),
    f("recipientAccountId", Text),
    f("serviceEventDetails", Json),
    f("sharedEventID", Text),
    f("vpcEndpointId", Text),
    f("vpcEndpointAccountId", Text),
    f("eventCategory", Text),
    f("addendum", Struct(ADDENDUM)),
    f("sessionCredentialFromConsole", Text),
    f("edgeDeviceDetails", Json),
    f("tlsDetails", Struct(TLS_DETAILS)),
    f("insightDetails", Json),
];

/// Index of `eventTime` in [`RECORD`]: every stored record has one.
pub const EVENT_TIME: usize = 2;
/// Index of `awsRegion` in [`RECORD`]: the region partition.
pub const AWS_REGION: usize = 5;
/// Index of `eventID` in [`RECORD`]: the identity used to drop duplicate deliveries.
pub const EVENT_ID: usize = 14;

/// The column holding, as a JSON object, whatever of a record the typed columns cannot give
/// back: unknown keys, values of an unexpected JSON type, explicit nulls, non-canonical
/// timestamps. Null for the usual record. Nested objects mirror the record's nesting.
pub const UNMAPPED_COLUMN: &str = "unmapped";

/// The Hive partition columns, in path order.
pub const PARTITION_COLUMNS: [&str; 2] = ["region", "date"];

/// The column the rows of every file are sorted by.
pub const SORT_COLUMN: &str = "eventtime";

/// The Arrow type a [`Kind`] is stored as.
pub fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Json => DataType::Utf8,
        Kind::Bool => DataType::Boolean,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::Struct(fields) => DataType::Struct(struct_fields(fields)),
        Kind::StructList(fields) => DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(struct_fields(fields)),
            true,
        ))),
    }
}

/// The Arrow fields of an object with known keys.
pub fn struct_fields(fields: &[FieldDef]) -> Fields {
    fields
        .iter()
        .map(|d| Field::new(d.column(), data_type(d.kind), true))
        .collect()
}

static FILE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = struct_fields(RECORD)
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(UNMAPPED_COLUMN, DataType::Utf8, true));
    Arc::new(Schema::new(fields))
});

/// The schema of every Parquet file in the lake (the partition columns live in the path).
pub fn file_schema() -> SchemaRef {
    FILE_SCHEMA.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_indexes_point_at_their_keys() {
        assert_eq!(RECORD[EVENT_TIME].key, "eventTime");
        assert_eq!(RECORD[AWS_REGION].key, "awsRegion");
        assert_eq!(RECORD[EVENT_ID].key, "eventID");
    }

    #[test]
    fn columns_are_athena_names() {
        let schema = file_schema();
        for name in [
            "eventversion",
            "useridentity",
            "eventtime",
            "sourceipaddress",
            "requestid",
        ] {
            assert!(schema.field_with_name(name).is_ok(), "{name}");
        }
        let DataType::Struct(ui) = schema.field_with_name("useridentity").unwrap().data_type()
        else {
            panic!("useridentity is a struct")
        };
        assert!(ui.find("sessioncontext").is_some());
        assert_eq!(schema.fields().last().unwrap().name(), UNMAPPED_COLUMN);
    }

    #[test]
    fn keys_are_unique_per_level() {
        fn check(fields: &[FieldDef]) {
            let mut cols: Vec<String> = fields.iter().map(FieldDef::column).collect();
            cols.sort();
            let n = cols.len();
            cols.dedup();
            assert_eq!(n, cols.len());
            for d in fields {
                if let Kind::Struct(c) | Kind::StructList(c) = d.kind {
                    check(c);
                }
            }
        }
        check(RECORD);
    }
}
