//! Arrow builders shaped like the record tree of [`trawl_lake::schema`].
//!
//! A field a record lacks costs nothing when the record is appended: each builder is padded
//! with nulls up to its parent's row when the next value comes ([`ColumnBuilder::pad_to`]),
//! or when the batch is finished. A record fills only some of the columns, so this spares a null
//! per absent field (and, for an absent object, one per field inside it) for every record.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BooleanBuilder, ListArray, StringBuilder, StructArray,
    TimestampMicrosecondBuilder,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::Field;
use arrow_buffer::NullBufferBuilder;
use trawl_lake::schema::{FieldDef, Kind, data_type, struct_fields};

/// A builder for one column of the record tree.
pub(crate) enum ColumnBuilder {
    Text(StringBuilder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Struct(StructColumns),
    List(ListColumns),
}

impl ColumnBuilder {
    pub(crate) fn new(kind: Kind) -> Self {
        match kind {
            // Empty to start: a run over years of history holds builders for many partitions at
            // once, and most see few rows before they are taken.
            Kind::Text | Kind::Json => ColumnBuilder::Text(StringBuilder::with_capacity(0, 0)),
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(0)),
            Kind::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(0).with_timezone("UTC"),
            ),
            Kind::Struct(fields) => ColumnBuilder::Struct(StructColumns::new(fields)),
            Kind::StructList(fields) => ColumnBuilder::List(ListColumns::new(fields)),
        }
    }

    /// A builder with room for a quarter more rows and bytes than `like` holds, so a batch
    /// about as large as the last one is built without growing (copying) its buffers: batches
    /// end on file boundaries, so their sizes vary.
    pub(crate) fn sized_like(kind: Kind, like: &ArrayRef) -> Self {
        match kind {
            Kind::Text | Kind::Json => {
                let text = like.as_string::<i32>();
                ColumnBuilder::Text(StringBuilder::with_capacity(
                    room(text.len()),
                    room(text.values().len()),
                ))
            }
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(room(like.len()))),
            Kind::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(room(like.len())).with_timezone("UTC"),
            ),
            Kind::Struct(fields) => {
                ColumnBuilder::Struct(StructColumns::sized_like(fields, like.as_struct()))
            }
            Kind::StructList(fields) => {
                let list = like.as_list::<i32>();
                ColumnBuilder::List(ListColumns {
                    items: StructColumns::sized_like(fields, list.values().as_struct()),
                    offsets: {
                        let mut offsets = Vec::with_capacity(room(list.len()) + 1);
                        offsets.push(0);
                        offsets
                    },
                    validity: NullBufferBuilder::new(room(list.len())),
                })
            }
        }
    }

    /// Rows held, nulls included. Read from the builders' own buffers: the null buffer's
    /// length is a call into another crate, and this is asked for every value appended.
    #[inline]
    fn len(&self) -> usize {
        match self {
            ColumnBuilder::Text(b) => b.offsets_slice().len() - 1,
            ColumnBuilder::Bool(b) => b.len(),
            ColumnBuilder::Timestamp(b) => b.values_slice().len(),
            ColumnBuilder::Struct(b) => b.len(),
            ColumnBuilder::List(b) => b.len(),
        }
    }

    /// Appends nulls up to `rows` rows: the rows before the parent's current one whose records
    /// lacked this field. Call it before appending the current row's value.
    #[inline]
    pub(crate) fn pad_to(&mut self, rows: usize) {
        let len = self.len();
        debug_assert!(len <= rows, "a builder is never ahead of its parent");
        if len < rows {
            self.append_missing(rows - len);
        }
    }

    fn append_missing(&mut self, missing: usize) {
        match self {
            ColumnBuilder::Text(b) => b.append_nulls(missing),
            ColumnBuilder::Bool(b) => b.append_nulls(missing),
            ColumnBuilder::Timestamp(b) => b.append_nulls(missing),
            ColumnBuilder::Struct(b) => b.append_nulls(missing),
            ColumnBuilder::List(b) => b.append_nulls(missing),
        }
    }

    pub(crate) fn append_null(&mut self) {
        self.append_missing(1);
    }

    /// The column of a batch of `rows` rows, padded with nulls to that length.
    pub(crate) fn finish(&mut self, rows: usize) -> ArrayRef {
        self.pad_to(rows);
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Struct(b) => Arc::new(b.finish()),
            ColumnBuilder::List(b) => Arc::new(b.finish()),
        }
    }
}

/// Room for `n` and a quarter more.
pub(crate) fn room(n: usize) -> usize {
    n + n / 4
}

/// The builders of an object's known keys, plus its own validity.
pub(crate) struct StructColumns {
    pub(crate) fields: &'static [FieldDef],
    pub(crate) children: Vec<ColumnBuilder>,
    validity: NullBufferBuilder,
    /// Rows held (the validity's length, kept here where it costs no call to read).
    rows: usize,
}

impl StructColumns {
    pub(crate) fn new(fields: &'static [FieldDef]) -> Self {
        Self {
            fields,
            children: fields.iter().map(|d| ColumnBuilder::new(d.kind)).collect(),
            validity: NullBufferBuilder::new(0),
            rows: 0,
        }
    }

    fn sized_like(fields: &'static [FieldDef], like: &StructArray) -> Self {
        Self {
            fields,
            children: fields
                .iter()
                .zip(like.columns())
                .map(|(d, c)| ColumnBuilder::sized_like(d.kind, c))
                .collect(),
            validity: NullBufferBuilder::new(room(like.len())),
            rows: 0,
        }
    }

    /// Rows held, nulls included.
    #[inline]
    fn len(&self) -> usize {
        self.rows
    }

    /// Marks a row present and returns its index: the caller pads each child it has a value
    /// for to that index, then appends the value.
    pub(crate) fn append_present(&mut self) -> usize {
        self.validity.append_non_null();
        self.rows += 1;
        self.rows - 1
    }

    /// A null row; the children are padded when the next value or the end of the batch comes.
    pub(crate) fn append_null(&mut self) {
        self.append_nulls(1);
    }

    fn append_nulls(&mut self, n: usize) {
        self.validity.append_n_nulls(n);
        self.rows += n;
    }

    fn finish(&mut self) -> StructArray {
        let rows = std::mem::take(&mut self.rows);
        let arrays = self.children.iter_mut().map(|c| c.finish(rows)).collect();
        StructArray::new(struct_fields(self.fields), arrays, self.validity.finish())
    }
}

/// The builders of an array of objects.
pub(crate) struct ListColumns {
    pub(crate) items: StructColumns,
    offsets: Vec<i32>,
    validity: NullBufferBuilder,
}

impl ListColumns {
    fn new(fields: &'static [FieldDef]) -> Self {
        Self {
            items: StructColumns::new(fields),
            offsets: vec![0],
            validity: NullBufferBuilder::new(0),
        }
    }

    /// Closes a present list after its items were appended to `items`.
    pub(crate) fn close_list(&mut self, items: usize) {
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last + items as i32);
        self.validity.append_non_null();
    }

    #[inline]
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Appends `n` null lists.
    pub(crate) fn append_nulls(&mut self, n: usize) {
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.extend(std::iter::repeat_n(last, n));
        self.validity.append_n_nulls(n);
    }

    fn finish(&mut self) -> ListArray {
        let item = Arc::new(Field::new(
            "item",
            data_type(Kind::Struct(self.items.fields)),
            true,
        ));
        let offsets = OffsetBuffer::new(std::mem::replace(&mut self.offsets, vec![0]).into());
        ListArray::new(
            item,
            offsets,
            Arc::new(self.items.finish()),
            self.validity.finish(),
        )
    }
}
