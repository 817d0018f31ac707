//! The one Parquet writer every table goes through: schema from the contract, zstd,
//! dictionary encoding for repeated strings, and the contract version in the file metadata.
//!
//! Column builders here are small and typed so each table module reads like its row of the
//! contract: `Column::u64("records", ...)`. A column whose values are not a few repeated
//! ones says so with [`Column::layout`]: the encoding that suits it is cheaper to write and
//! smaller than a dictionary that overflows (see [`Layout`]).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

/// Version of the report contract these tables follow (`summary.json` says the same).
pub const REPORT_VERSION: &str = "1";

/// How a column's values are laid out in the file. Every encoding here is part of the
/// Parquet format and read by pyarrow, polars and DuckDB; the values read back the same.
///
/// A dictionary is right for a few repeated values (names, verdicts, states). For values
/// that are mostly distinct it is wrong twice: the writer hashes and interns each one until
/// the dictionary overflows (1 MiB, per row group), then writes the rest of the row group's
/// values plain, for zstd to find what the encoding could have said. On the 5 GB bench
/// bundle the layouts below make `sockets.parquet` 41 MB instead of 48 and `drops.parquet`
/// 6.6 MB instead of 8.0, and the tables after the pass quicker to write
/// (docs/performance-history.md, "What session 23 changed").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A few distinct values, each row an index into a dictionary page. The default.
    Repeated,
    /// Integers or times that mostly rise (timestamps of a log, byte offsets in a source):
    /// the differences, bit-packed (`DELTA_BINARY_PACKED`).
    Rising,
    /// Strings that are mostly distinct (client addresses, `source@offset` evidence): each
    /// stored as its difference from the one before (`DELTA_BYTE_ARRAY`, the shared prefix
    /// as a length).
    Distinct,
    /// Measured floats (durations): their bytes split into streams that compress
    /// (`BYTE_STREAM_SPLIT`).
    Measured,
}

impl Layout {
    /// The field metadata key that carries a layout from [`Column`] to the writer (taken
    /// off the schema the file records).
    const KEY: &'static str = "coroner.layout";

    fn name(self) -> &'static str {
        match self {
            Layout::Repeated => "repeated",
            Layout::Rising => "rising",
            Layout::Distinct => "distinct",
            Layout::Measured => "measured",
        }
    }

    fn of(field: &Field) -> Layout {
        match field.metadata().get(Layout::KEY).map(String::as_str) {
            Some("rising") => Layout::Rising,
            Some("distinct") => Layout::Distinct,
            Some("measured") => Layout::Measured,
            _ => Layout::Repeated,
        }
    }

    /// The writer's settings for column `name`.
    fn apply(self, props: WriterPropertiesBuilder, name: &str) -> WriterPropertiesBuilder {
        let encoding = match self {
            Layout::Repeated => return props,
            Layout::Rising => Encoding::DELTA_BINARY_PACKED,
            Layout::Distinct => Encoding::DELTA_BYTE_ARRAY,
            Layout::Measured => Encoding::BYTE_STREAM_SPLIT,
        };
        let path = ColumnPath::from(name);
        props
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_encoding(path, encoding)
    }
}

/// One named, typed column.
pub struct Column {
    field: Field,
    array: ArrayRef,
}

impl Column {
    /// The column with `layout` in the file (the default is [`Layout::Repeated`]).
    pub fn layout(mut self, layout: Layout) -> Column {
        let metadata = HashMap::from([(Layout::KEY.to_string(), layout.name().to_string())]);
        self.field = self.field.with_metadata(metadata);
        self
    }

    /// A column built elsewhere (a builder filled row by row), of the array's type.
    pub fn array(name: &str, array: ArrayRef) -> Column {
        Column {
            field: Field::new(name, array.data_type().clone(), true),
            array,
        }
    }

    pub fn utf8<'a>(name: &str, values: impl IntoIterator<Item = Option<&'a str>>) -> Column {
        let mut b = StringBuilder::new();
        for v in values {
            b.append_option(v);
        }
        Column {
            field: Field::new(name, DataType::Utf8, true),
            array: Arc::new(b.finish()),
        }
    }

    pub fn u64(name: &str, values: impl IntoIterator<Item = Option<u64>>) -> Column {
        let mut b = UInt64Builder::new();
        for v in values {
            b.append_option(v);
        }
        Column {
            field: Field::new(name, DataType::UInt64, true),
            array: Arc::new(b.finish()),
        }
    }

    pub fn f64(name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Column {
        let mut b = Float64Builder::new();
        for v in values {
            b.append_option(v);
        }
        Column {
            field: Field::new(name, DataType::Float64, true),
            array: Arc::new(b.finish()),
        }
    }

    /// `Timestamp(Microsecond, "UTC")`, the contract's type for every time.
    pub fn timestamp(name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Column {
        let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        for v in values {
            b.append_option(v);
        }
        Column {
            field: Field::new(
                name,
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            array: Arc::new(b.finish()),
        }
    }
}

/// Assemble columns into a batch (all columns must have the same length).
pub fn batch(columns: Vec<Column>) -> Result<RecordBatch, String> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) =
        columns.into_iter().map(|c| (c.field, c.array)).unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())
}

/// Rows per record batch when a table is written from its rows: columns are built for this
/// many rows at a time, so a table of millions of rows (socket ends, drops) never holds more
/// than one slice as Arrow arrays beside the encoder's row group.
pub const BATCH_ROWS: usize = 1 << 16;

/// Write a table from its rows, `BATCH_ROWS` at a time through `batch_of` (which builds the
/// columns of a slice of rows; called once with no rows for an empty table).
pub fn write_rows<T>(
    path: &Path,
    rows: &[T],
    batch_of: impl Fn(&[T]) -> Result<RecordBatch, String>,
) -> Result<(), String> {
    write_batches(path, rows.chunks(BATCH_ROWS).map(&batch_of), || {
        batch_of(&[])
    })
}

/// [`write_rows`] for rows read one by one (from a spill): `BATCH_ROWS` of them are held at
/// a time. A row that cannot be read ends the table with that error.
pub fn write_iter<T>(
    path: &Path,
    rows: impl Iterator<Item = Result<T, String>>,
    batch_of: impl Fn(&[T]) -> Result<RecordBatch, String>,
) -> Result<(), String> {
    let mut rows = rows.peekable();
    let mut slice = Vec::with_capacity(BATCH_ROWS);
    let batches = std::iter::from_fn(|| {
        rows.peek()?;
        slice.clear();
        for row in rows.by_ref().take(BATCH_ROWS) {
            match row {
                Ok(row) => slice.push(row),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(batch_of(&slice))
    });
    write_batches(path, batches, || batch_of(&[]))
}

/// Write the batches one after another (the schema of the first; of `empty` when there
/// are none).
fn write_batches(
    path: &Path,
    batches: impl Iterator<Item = Result<RecordBatch, String>>,
    empty: impl FnOnce() -> Result<RecordBatch, String>,
) -> Result<(), String> {
    let mut writer = BatchWriter::new(path);
    for batch in batches {
        writer.write(&batch?)?;
    }
    writer.finish(empty)
}

/// Rows per row group (the writer's setting, kept by [`BatchWriter`] itself).
const ROW_GROUP_ROWS: usize = 1 << 20;

/// A table written a batch at a time, for rows that are pushed rather than iterated (the
/// schema is the first batch's).
///
/// Called on a rayon pool's thread, it encodes the columns in parallel on that pool (a
/// table's columns are independent until their chunks are appended to the row group, in
/// order); elsewhere (the drops writer's own thread) one after another, so that a run
/// never uses more threads than it was given. The largest table (`sockets.parquet`, nine
/// columns, five of them strings) had been the run's last stretch on one core while the
/// other waited. The file is the one [`ArrowWriter`] writes: the same column writers,
/// given the same values, appended in the same order.
pub struct BatchWriter<'p> {
    path: &'p Path,
    open: Option<OpenTable>,
    row_group_rows: usize,
}

/// A table's file and the column writers of its row group being filled (none between a
/// row group's close and the next rows).
struct OpenTable {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    columns: Vec<ArrowColumnWriter>,
    /// Row groups closed so far.
    row_groups: usize,
    /// Rows in the row group being filled.
    rows: usize,
}

impl OpenTable {
    fn open(path: &Path, batch: &RecordBatch, row_group_rows: usize) -> Result<OpenTable, String> {
        let writer = open_writer(path, batch, row_group_rows)?;
        // Leaves are computed from the batch's fields: their types are the file's.
        let schema = batch.schema();
        // Nothing written yet: this only hands over the file (its Arrow schema already in
        // the metadata to write) and the factory of column writers.
        let (file, factory) = writer.into_serialized_writer().map_err(|e| e.to_string())?;
        Ok(OpenTable {
            file,
            factory,
            schema,
            columns: Vec::new(),
            row_groups: 0,
            rows: 0,
        })
    }

    /// Encode `batch` (at most the rows left in this row group), one task per column.
    fn encode(&mut self, batch: &RecordBatch) -> Result<(), String> {
        if self.columns.is_empty() {
            self.columns = self
                .factory
                .create_column_writers(self.row_groups)
                .map_err(|e| e.to_string())?;
        }
        let mut leaves = Vec::with_capacity(self.columns.len());
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array).map_err(|e| e.to_string())?);
        }
        if leaves.len() != self.columns.len() {
            return Err(format!(
                "{} leaf columns for {} writers",
                leaves.len(),
                self.columns.len()
            ));
        }
        let write = |(column, leaf): (&mut ArrowColumnWriter, ArrowLeafColumn)| column.write(&leaf);
        if in_pool() {
            self.columns.par_iter_mut().zip(leaves).try_for_each(write)
        } else {
            self.columns.iter_mut().zip(leaves).try_for_each(write)
        }
        .map_err(|e| e.to_string())?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Close the row group being filled (its columns in parallel) and append it.
    fn close_row_group(&mut self) -> Result<(), String> {
        let columns = std::mem::take(&mut self.columns);
        let chunks = if in_pool() {
            columns
                .into_par_iter()
                .map(ArrowColumnWriter::close)
                .collect::<Result<Vec<_>, _>>()
        } else {
            columns.into_iter().map(ArrowColumnWriter::close).collect()
        }
        .map_err(|e| e.to_string())?;
        let mut group = self.file.next_row_group().map_err(|e| e.to_string())?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut group)
                .map_err(|e| e.to_string())?;
        }
        group.close().map_err(|e| e.to_string())?;
        self.row_groups += 1;
        self.rows = 0;
        Ok(())
    }
}

/// Whether this thread is a rayon pool's (whose other threads may take a column each).
fn in_pool() -> bool {
    rayon::current_thread_index().is_some()
}

impl<'p> BatchWriter<'p> {
    pub fn new(path: &'p Path) -> BatchWriter<'p> {
        BatchWriter {
            path,
            open: None,
            row_group_rows: ROW_GROUP_ROWS,
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        debug_assert!(self.row_group_rows > 0);
        let table = match &mut self.open {
            Some(t) => t,
            None => self
                .open
                .insert(OpenTable::open(self.path, batch, self.row_group_rows)?),
        };
        let mut at = 0;
        while at < batch.num_rows() {
            let room = self.row_group_rows - table.rows;
            let n = room.min(batch.num_rows() - at);
            table.encode(&batch.slice(at, n))?;
            at += n;
            if table.rows == self.row_group_rows {
                table.close_row_group()?;
            }
        }
        Ok(())
    }

    /// Close the file; a table with no batch gets the schema of `empty`.
    pub fn finish(
        mut self,
        empty: impl FnOnce() -> Result<RecordBatch, String>,
    ) -> Result<(), String> {
        if self.open.is_none() {
            self.write(&empty()?)?;
        }
        let mut table = self.open.take().expect("opened above");
        if table.rows > 0 {
            table.close_row_group()?;
        }
        table.file.close().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Write `batch` to `path` as Parquet: zstd level 1, dictionary pages, 1 Mi rows per group.
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), String> {
    let mut writer = BatchWriter::new(path);
    writer.write(batch)?;
    writer.finish(|| unreachable!("the batch opened the table"))
}

/// A Parquet writer for `batch`'s schema at `path`: zstd level 1, dictionary pages unless
/// a column's [`Layout`] says otherwise, `row_group_rows` rows per row group, the contract
/// version in the metadata.
fn open_writer(
    path: &Path,
    batch: &RecordBatch,
    row_group_rows: usize,
) -> Result<ArrowWriter<File>, String> {
    let mut props = WriterProperties::builder();
    // The layouts become the writer's settings; the schema the file records (and readers
    // show) carries no trace of them.
    let mut fields = Vec::with_capacity(batch.num_columns());
    for field in batch.schema().fields() {
        props = Layout::of(field).apply(props, field.name());
        fields.push(field.as_ref().clone().with_metadata(HashMap::new()));
    }
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        batch.schema().metadata().clone(),
    ));
    let props = props
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).map_err(|e| e.to_string())?,
        ))
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(row_group_rows))
        // [`BatchWriter`] cuts row groups by rows only and pages as the column writers do:
        // the two settings with which ArrowWriter would cut otherwise stay off (their
        // defaults, said here because the file's equality with ArrowWriter's rests on it).
        .set_max_row_group_bytes(None)
        .set_content_defined_chunking(None)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "coroner.report_version".into(),
            REPORT_VERSION.to_string(),
        )]))
        .set_created_by(format!("coroner {}", env!("CARGO_PKG_VERSION")))
        .build();
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// A table written in slices reads back as the rows in order, with the schema of an
    /// empty table when there are none.
    #[test]
    fn rows_are_written_in_slices_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<u64> = (0..(BATCH_ROWS as u64 * 2 + 7)).collect();
        let of = |r: &[u64]| batch(vec![Column::u64("n", r.iter().map(|&v| Some(v)))]);
        for n in [0, rows.len()] {
            let path = dir.path().join(format!("{n}.parquet"));
            write_rows(&path, &rows[..n], of).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
                .unwrap()
                .build()
                .unwrap();
            let mut got = Vec::new();
            for b in reader {
                let b = b.unwrap();
                assert_eq!(b.schema().field(0).name(), "n");
                let col = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow_array::UInt64Array>();
                got.extend(col.unwrap().values().iter().copied());
            }
            assert_eq!(got, rows[..n]);
        }
    }

    /// A table's batches, in row groups of a few of them: the file [`BatchWriter`] writes
    /// with its columns encoded in parallel (on a pool) or not is, byte for byte, the one
    /// [`ArrowWriter`] writes from the same batches.
    #[test]
    fn batch_writer_writes_the_arrow_writers_file() {
        let dir = tempfile::tempdir().unwrap();
        // 3,100 rows in batches of 700, row groups of 1,000: batches that cross a group's
        // end and a last group that is not full.
        let names: Vec<String> = (0..3100)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 7))
            .collect();
        let batches: Vec<RecordBatch> = names
            .chunks(700)
            .enumerate()
            .map(|(k, names)| {
                let base = 700 * k as u64;
                batch(vec![
                    Column::u64("n", (0..names.len() as u64).map(|i| Some(base + i)))
                        .layout(Layout::Rising),
                    Column::utf8("name", names.iter().map(|s| Some(s.as_str()))),
                    Column::utf8("distinct", names.iter().map(|s| Some(s.as_str())))
                        .layout(Layout::Distinct),
                    Column::f64(
                        "f",
                        (0..names.len()).map(|i| (i % 5 > 0).then_some(i as f64)),
                    )
                    .layout(Layout::Measured),
                ])
                .unwrap()
            })
            .collect();
        let reference = dir.path().join("reference.parquet");
        let mut writer = open_writer(&reference, &batches[0], 1000).unwrap();
        for b in &batches {
            writer.write(b).unwrap();
        }
        writer.close().unwrap();
        let write = |name: &str| {
            let path = dir.path().join(name);
            let mut w = BatchWriter::new(&path);
            w.row_group_rows = 1000;
            for b in &batches {
                w.write(b).unwrap();
            }
            w.finish(|| unreachable!("batches were written")).unwrap();
            std::fs::read(&path).unwrap()
        };
        let want = std::fs::read(&reference).unwrap();
        let alone = write("alone.parquet");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let parallel = pool.install(|| {
            assert!(in_pool());
            write("parallel.parquet")
        });
        assert!(
            alone == want,
            "written alone, the file differs from ArrowWriter's"
        );
        assert!(
            parallel == want,
            "written on a pool, the file differs from ArrowWriter's"
        );
        let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&reference).unwrap())
            .unwrap()
            .metadata()
            .clone();
        assert_eq!(meta.num_row_groups(), 4);

        // No rows: the schema of `empty`, no row group, as ArrowWriter writes it.
        let empty = batches[0].slice(0, 0);
        let reference = dir.path().join("empty-reference.parquet");
        let mut writer = open_writer(&reference, &empty, 1000).unwrap();
        writer.write(&empty).unwrap();
        writer.close().unwrap();
        let path = dir.path().join("empty.parquet");
        BatchWriter::new(&path)
            .finish(|| Ok(empty.clone()))
            .unwrap();
        assert!(std::fs::read(&path).unwrap() == std::fs::read(&reference).unwrap());
    }

    /// Each layout is the encoding the file uses for its column, the values read back as
    /// written, and the schema the file records carries no layout.
    #[test]
    fn layouts_pick_the_encoding_and_leave_no_trace_in_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let n = 5_000u64;
        let names: Vec<String> = (0..n)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        let b = batch(vec![
            Column::utf8("repeated", (0..n).map(|i| Some(["a", "b"][i as usize % 2]))),
            Column::u64("rising", (0..n).map(|i| Some(i * 3 + i % 7))).layout(Layout::Rising),
            Column::utf8("distinct", names.iter().map(|s| Some(s.as_str())))
                .layout(Layout::Distinct),
            Column::f64(
                "measured",
                (0..n).map(|i| (i % 11 > 0).then_some(i as f64 / 7.0)),
            )
            .layout(Layout::Measured),
            Column::timestamp("ts", (0..n).map(|i| Some(1_600_000_000_000_000 + i as i64)))
                .layout(Layout::Rising),
        ])
        .unwrap();
        write_parquet(&path, &b).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let chunk = builder.metadata().row_group(0).clone();
        let uses = |col: usize, e: Encoding| chunk.column(col).encodings().any(|x| x == e);
        assert!(uses(0, Encoding::RLE_DICTIONARY));
        assert!(uses(1, Encoding::DELTA_BINARY_PACKED) && !uses(1, Encoding::RLE_DICTIONARY));
        assert!(uses(2, Encoding::DELTA_BYTE_ARRAY) && !uses(2, Encoding::RLE_DICTIONARY));
        assert!(uses(3, Encoding::BYTE_STREAM_SPLIT) && !uses(3, Encoding::RLE_DICTIONARY));
        assert!(uses(4, Encoding::DELTA_BINARY_PACKED));
        let got: Vec<_> = builder
            .with_batch_size(n as usize)
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
        assert_eq!(got.len(), 1);
        let got = &got[0];
        assert!(
            got.schema()
                .fields()
                .iter()
                .all(|f| f.metadata().is_empty())
        );
        for (i, field) in b.schema().fields().iter().enumerate() {
            assert_eq!(
                got.column(i).as_ref(),
                b.column(i).as_ref(),
                "{}",
                field.name()
            );
        }
    }

    #[test]
    fn round_trips_types_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let b = batch(vec![
            Column::utf8("s", [Some("a"), None]),
            Column::u64("n", [Some(1), Some(u64::MAX)]),
            Column::timestamp("t", [Some(1_615_648_981_464_603), None]),
        ])
        .unwrap();
        write_parquet(&path, &b).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let got: Vec<_> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], b);
        assert_eq!(
            got[0].schema().field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert!(got[0].column(0).is_null(1));
    }
}
