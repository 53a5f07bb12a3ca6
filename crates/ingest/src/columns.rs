//! Arrow builders shaped like the record tree of [`trawl_lake::schema`].

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, ListArray, StringBuilder, StructArray,
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

    /// A builder with room for as many rows and bytes as `like` holds, so a batch about as
    /// large as the last one is built without growing (copying) its buffers.
    pub(crate) fn sized_like(kind: Kind, like: &ArrayRef) -> Self {
        match kind {
            Kind::Text | Kind::Json => {
                let text = like.as_string::<i32>();
                ColumnBuilder::Text(StringBuilder::with_capacity(
                    text.len(),
                    text.values().len(),
                ))
            }
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(like.len())),
            Kind::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(like.len()).with_timezone("UTC"),
            ),
            Kind::Struct(fields) => {
                ColumnBuilder::Struct(StructColumns::sized_like(fields, like.as_struct()))
            }
            Kind::StructList(fields) => {
                let list = like.as_list::<i32>();
                ColumnBuilder::List(ListColumns {
                    items: StructColumns::sized_like(fields, list.values().as_struct()),
                    offsets: {
                        let mut offsets = Vec::with_capacity(list.len() + 1);
                        offsets.push(0);
                        offsets
                    },
                    validity: NullBufferBuilder::new(list.len()),
                })
            }
        }
    }

    pub(crate) fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
            ColumnBuilder::Struct(b) => b.append_null(),
            ColumnBuilder::List(b) => b.append_null(),
        }
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Struct(b) => Arc::new(b.finish()),
            ColumnBuilder::List(b) => Arc::new(b.finish()),
        }
    }
}

/// The builders of an object's known keys, plus its own validity.
pub(crate) struct StructColumns {
    pub(crate) fields: &'static [FieldDef],
    pub(crate) children: Vec<ColumnBuilder>,
    validity: NullBufferBuilder,
}

impl StructColumns {
    pub(crate) fn new(fields: &'static [FieldDef]) -> Self {
        Self {
            fields,
            children: fields.iter().map(|d| ColumnBuilder::new(d.kind)).collect(),
            validity: NullBufferBuilder::new(0),
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
            validity: NullBufferBuilder::new(like.len()),
        }
    }

    /// Marks the row present; the caller appends one value (or null) to every child.
    pub(crate) fn append_present(&mut self) {
        self.validity.append_non_null();
    }

    pub(crate) fn append_null(&mut self) {
        self.validity.append_null();
        self.children
            .iter_mut()
            .for_each(ColumnBuilder::append_null);
    }

    fn finish(&mut self) -> StructArray {
        let arrays = self
            .children
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
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

    pub(crate) fn append_null(&mut self) {
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last);
        self.validity.append_null();
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
