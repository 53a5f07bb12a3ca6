//! Trino (Athena) functions beyond those in [`crate::functions`], by theme: time
//! ([`crate::trino_time`]), JSON text ([`crate::trino_json`]), URLs ([`crate::trino_url`]),
//! aggregates ([`crate::trino_agg`]) and string functions given a timestamp
//! ([`crate::trino_text`]).
//!
//! This module registers them and owns what they share: how a *time* argument (a timestamp, a
//! date, or ISO-8601 text, as Athena users pass `eventtime`) and a *text* argument (anything,
//! a timestamp as CloudTrail writes it) are accepted, and [`Simple`], a scalar function made
//! of a coercion rule, a return type and a body over whole arrays.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::prelude::SessionContext;

/// Registers every function of the `trino_*` modules on `ctx` (what functions cannot do is
/// in [`crate::trino_text::session_context`]).
pub fn register(ctx: &SessionContext) {
    for udf in crate::trino_time::udfs()
        .into_iter()
        .chain(crate::trino_json::udfs())
        .chain(crate::trino_url::udfs())
    {
        ctx.register_udf(udf);
    }
    crate::trino_text::register(ctx);
    crate::trino_agg::register(ctx);
}

/// The type of event times: microseconds, UTC.
pub(crate) fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// How a [`Simple`] function accepts one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A timestamp (any unit or zone), a date (its midnight, UTC), or ISO-8601 text
    /// (`2024-03-01T08:01:00Z`, `2024-03-01 08:01:00`, `2024-03-01`; NULL if it is none).
    Time,
    /// A date stays a date; anything else as [`Arg::Time`].
    DateOrTime,
    /// Text; a timestamp becomes CloudTrail's text of it (`2024-03-01T08:01:00Z`, a fraction
    /// only when there is one), numbers and booleans their SQL text.
    Text,
    /// A number, as a double.
    Float,
    /// A boolean, a whole number, a double, or else text: a JSON scalar to look for.
    JsonScalar,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The type an argument of kind `arg` given as `t` is cast to before the call.
pub(crate) fn coerce_arg(name: &str, arg: Arg, t: &DataType) -> Result<DataType> {
    let time = |t: &DataType| match t {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null => {
            Ok(utc_micros())
        }
        t if is_text(t) => Ok(DataType::Utf8),
        other => plan_err!("{name} takes a timestamp, a date or ISO-8601 text, not {other}"),
    };
    match arg {
        Arg::Time => time(t),
        Arg::DateOrTime => match t {
            DataType::Date32 | DataType::Date64 => Ok(DataType::Date32),
            t => time(t),
        },
        // Made text by `Simple` itself, as CloudTrail writes it, not as a cast would.
        Arg::Text if matches!(t, DataType::Timestamp(_, _)) => Ok(utc_micros()),
        Arg::Text => match t {
            t if is_text(t)
                || t.is_numeric()
                || matches!(
                    t,
                    DataType::Null | DataType::Boolean | DataType::Date32 | DataType::Date64
                ) =>
            {
                Ok(DataType::Utf8)
            }
            other => plan_err!("{name} takes text, not {other}"),
        },
        Arg::Float => match t {
            t if t.is_numeric() || t.is_null() => Ok(DataType::Float64),
            other => plan_err!("{name} takes a number, not {other}"),
        },
        Arg::JsonScalar => match t {
            DataType::Boolean => Ok(DataType::Boolean),
            t if t.is_integer() => Ok(DataType::Int64),
            t if t.is_floating() || matches!(t, DataType::Decimal128(_, _)) => {
                Ok(DataType::Float64)
            }
            t => coerce_arg(name, Arg::Text, t),
        },
    }
}

/// Coerces `types` to the kinds `args`.
pub(crate) fn coerce_args(name: &str, args: &[Arg], types: &[DataType]) -> Result<Vec<DataType>> {
    if types.len() != args.len() {
        return plan_err!(
            "{name} takes {} argument(s), not {}",
            args.len(),
            types.len()
        );
    }
    types
        .iter()
        .zip(args)
        .map(|(t, a)| coerce_arg(name, *a, t))
        .collect()
}

/// An instant in ISO-8601 text: any form `eventTime` takes, or a bare date (its midnight).
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    trawl_lake::eventtime::parse(text).or_else(|| {
        let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
        Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
    })
}

/// The microseconds since the epoch of an argument coerced by [`Arg::Time`].
pub(crate) fn micros(a: &ArrayRef) -> Result<Vec<Option<i64>>> {
    match a.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, _) => Ok(a
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect()),
        DataType::Utf8 => Ok(a
            .as_string::<i32>()
            .iter()
            .map(|s| s.and_then(parse_time))
            .collect()),
        DataType::Null => Ok(vec![None; a.len()]),
        other => exec_err!("expected a time, got {other}"),
    }
}

/// CloudTrail's text of each time in a UTC microsecond timestamp array.
pub(crate) fn cloudtrail_text(a: &ArrayRef) -> Result<ArrayRef> {
    let a = cast(a, &utc_micros())?;
    let out: StringArray = a
        .as_primitive::<TimestampMicrosecondType>()
        .iter()
        .map(|t| t.map(trawl_lake::eventtime::format_canonical))
        .collect();
    Ok(Arc::new(out))
}

/// An instant from microseconds since the epoch.
pub(crate) fn datetime(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// A UTC timestamp array from microseconds.
pub(crate) fn timestamps(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

type Coerce = dyn Fn(&[DataType]) -> Result<Vec<DataType>> + Send + Sync;
type Body = dyn Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync;

/// A scalar function made of its argument coercion, return type and a body that maps whole
/// argument arrays (scalars expanded) to the result array. Equal when named alike: a session
/// holds one function per name.
pub(crate) struct Simple {
    name: &'static str,
    /// The argument kinds when given: a timestamp for an [`Arg::Text`] is made text.
    kinds: &'static [Arg],
    signature: Signature,
    coerce: Box<Coerce>,
    returns: DataType,
    body: Box<Body>,
}

impl fmt::Debug for Simple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simple").field("name", &self.name).finish()
    }
}

impl PartialEq for Simple {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Simple {}

impl Hash for Simple {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for Simple {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(types)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // All constants: one value, whatever the batch size (even an empty batch).
        let n = crate::functions::rows(&args.args);
        let arrays = args
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let a = a.to_array(n)?;
                let text = matches!(self.kinds.get(i), Some(Arg::Text | Arg::JsonScalar));
                Ok(
                    if text && matches!(a.data_type(), DataType::Timestamp(_, _)) {
                        cloudtrail_text(&a)?
                    } else {
                        a
                    },
                )
            })
            .collect::<Result<Vec<_>>>()?;
        crate::functions::output(&args.args, (self.body)(&arrays)?)
    }
}

/// A [`Simple`] function whose arguments are of the kinds `args`.
pub(crate) fn simple(
    name: &'static str,
    args: &'static [Arg],
    returns: DataType,
    body: impl Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync + 'static,
) -> ScalarUDF {
    ScalarUDF::new_from_impl(Simple {
        name,
        kinds: args,
        signature: Signature::user_defined(Volatility::Immutable),
        coerce: Box::new(move |types| coerce_args(name, args, types)),
        returns,
        body: Box::new(body),
    })
}

/// The types `udf` wants for arguments of `types`, by its own signature.
pub(crate) fn types_for(udf: &ScalarUDF, types: &[DataType]) -> Result<Vec<DataType>> {
    let fields: Vec<_> = types
        .iter()
        .map(|t| Arc::new(Field::new("arg", t.clone(), true)))
        .collect();
    Ok(fields_with_udf(&fields, udf)?
        .iter()
        .map(|f| f.data_type().clone())
        .collect())
}

/// One name, two implementations: `ours` (Trino's meaning) for the argument types `ours_if`
/// accepts, `theirs` (DataFusion's function of that name) for all others, so that ours
/// extends theirs without changing anything theirs already did.
pub(crate) struct Either {
    signature: Signature,
    ours: ScalarUDF,
    theirs: ScalarUDF,
    ours_if: fn(&[DataType]) -> bool,
}

impl fmt::Debug for Either {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Either")
            .field("ours", &self.ours)
            .field("theirs", &self.theirs)
            .finish()
    }
}

impl PartialEq for Either {
    fn eq(&self, other: &Self) -> bool {
        self.ours == other.ours && self.theirs == other.theirs
    }
}

impl Eq for Either {}

impl Hash for Either {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ours.hash(state);
        self.theirs.hash(state);
    }
}

impl Either {
    fn pick(&self, types: &[DataType]) -> &ScalarUDF {
        if (self.ours_if)(types) {
            &self.ours
        } else {
            &self.theirs
        }
    }

    fn pick_fields(&self, fields: &[FieldRef]) -> &ScalarUDF {
        let types: Vec<_> = fields.iter().map(|f| f.data_type().clone()).collect();
        self.pick(&types)
    }
}

impl ScalarUDFImpl for Either {
    fn name(&self) -> &str {
        self.ours.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        types_for(self.pick(types), types)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.pick(types).return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.pick_fields(args.arg_fields)
            .return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.pick_fields(&args.arg_fields).invoke_with_args(args)
    }
}

/// An [`Either`] function: `ours` where `ours_if` says so, else `theirs`.
pub(crate) fn either(
    ours: ScalarUDF,
    theirs: ScalarUDF,
    ours_if: fn(&[DataType]) -> bool,
) -> ScalarUDF {
    ScalarUDF::new_from_impl(Either {
        signature: Signature::user_defined(Volatility::Immutable),
        ours,
        theirs,
        ours_if,
    })
}

/// Test helper: a session as `open_session` makes it, without a table.
#[cfg(test)]
fn test_context() -> SessionContext {
    let ctx =
        crate::trino_text::session_context(datafusion::prelude::SessionConfig::new()).unwrap();
    crate::functions::register(&ctx);
    ctx
}

/// Test helper: runs `sql` on such a session and returns the
/// first column of the result as text, one entry per row (`NULL` for null).
#[cfg(test)]
pub(crate) async fn column(sql: &str) -> Vec<String> {
    let ctx = test_context();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in batches {
        let c = b.column(0);
        let options = datafusion::arrow::util::display::FormatOptions::default().with_null("NULL");
        let f = datafusion::arrow::util::display::ArrayFormatter::try_new(c, &options).unwrap();
        for i in 0..c.len() {
            out.push(f.value(i).to_string());
        }
    }
    out
}

/// Test helper: the single value `sql` returns.
#[cfg(test)]
pub(crate) async fn one(sql: &str) -> String {
    let mut c = column(sql).await;
    assert_eq!(c.len(), 1, "{sql}");
    c.remove(0)
}

/// Test helper: the error `sql` gives, planning or running.
#[cfg(test)]
pub(crate) async fn error(sql: &str) -> String {
    let ctx = test_context();
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => df.collect().await.expect_err(sql).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_every_form_eventtime_takes() {
        let at = parse_time("2024-03-01T08:01:00Z").unwrap();
        assert_eq!(parse_time("2024-03-01 08:01:00"), Some(at));
        assert_eq!(parse_time("2024-03-01T09:01:00+01:00"), Some(at));
        assert_eq!(parse_time("2024-03-01"), parse_time("2024-03-01T00:00:00Z"));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[tokio::test]
    async fn arguments_are_checked_at_planning() {
        let e = error("SELECT to_iso8601(1)").await;
        assert!(e.contains("to_iso8601 takes a timestamp"), "{e}");
        let e = error("SELECT url_extract_host('a', 'b')").await;
        assert!(e.contains("takes 1 argument(s), not 2"), "{e}");
    }
}
