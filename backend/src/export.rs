//! Downloads, each through one writer: CSV (UTF-8 with a BOM, every cell through
//! the formula guard), whole or streamed in batches; XLSX workbooks; and the
//! attachment headers every file download answers with.
use std::borrow::Cow;
use std::future::Future;
use std::io::{Seek, SeekFrom};

use actix_web::body::SizedStream;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};
use futures_util::stream::{self, Stream};
use tokio::io::AsyncReadExt;

use crate::error::{AppError, AppResult};

/// Content type of the CSV downloads.
pub const CSV: &str = "text/csv; charset=utf-8";
/// Content type of the Excel downloads.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// UTF-8 byte order mark: Excel reads a CSV's Chinese right only with it.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

// ---------------------------------------------------------------- headers

/// A 200 that the browser saves as `filename` (ASCII, no quotes).
pub fn attachment(content_type: &str, filename: &str) -> HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.insert_header((CONTENT_TYPE, content_type.to_owned()))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ));
    res
}

/// A file already in memory, as an attachment.
pub fn download(content_type: &str, filename: &str, body: Vec<u8>) -> HttpResponse {
    attachment(content_type, filename).body(body)
}

// ---------------------------------------------------------------- CSV

/// Excel runs a cell starting with `= + - @`, a tab or a carriage return as a
/// formula: such text gets a leading `'`.
pub fn cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn csv_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("csv: {e}"))
}

/// A CSV written into memory. Every cell goes through [`cell`], so nothing a
/// user typed can run as a formula, whichever column it lands in.
pub struct Csv(csv::Writer<Vec<u8>>);

impl Csv {
    /// A file that starts with the BOM and the header line.
    pub fn new<S: AsRef<str>>(header: &[S]) -> AppResult<Csv> {
        let mut csv = Csv(csv::Writer::from_writer(BOM.to_vec()));
        csv.line(header)?;
        Ok(csv)
    }

    /// Without BOM or header: the later chunks of a streamed file.
    fn continued() -> Csv {
        Csv(csv::Writer::from_writer(Vec::with_capacity(256 * 1024)))
    }

    /// Writes one line.
    pub fn line<I>(&mut self, cells: I) -> AppResult<()>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.0
            .write_record(cells.into_iter().map(|c| cell(c.as_ref()).into_owned()))
            .map_err(csv_error)
    }

    /// The bytes written.
    pub fn finish(self) -> AppResult<Vec<u8>> {
        self.0.into_inner().map_err(csv_error)
    }
}

/// A CSV body streamed from a batch source: the first chunk is the BOM and the
/// header, then one chunk per batch until `next` returns `None`. An error after
/// the first chunk can only cut the download short (the status is sent), so it
/// is logged here.
pub fn csv_stream<S, F, Fut>(
    header: &'static [&'static str],
    source: S,
    next: F,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static
where
    S: 'static,
    F: Fn(S) -> Fut + Copy + 'static,
    Fut: Future<Output = AppResult<Option<(Vec<Vec<String>>, S)>>> + 'static,
{
    let first = stream::once(async move { Csv::new(header)?.finish().map(Bytes::from) });
    let rest = stream::try_unfold(source, move |s| async move {
        let Some((rows, s)) = next(s).await? else {
            return Ok(None);
        };
        let mut chunk = Csv::continued();
        for r in rows {
            chunk.line(r)?;
        }
        Ok(Some((Bytes::from(chunk.finish()?), s)))
    });
    futures_util::StreamExt::map(
        futures_util::StreamExt::chain(first, rest),
        |r: AppResult<Bytes>| {
            r.map_err(|e| {
                // Headers are gone by now: the client sees a cut-off download.
                tracing::error!(error = %e, "download stopped");
                actix_web::Error::from(e)
            })
        },
    )
}

// ---------------------------------------------------------------- XLSX

/// An XLSX writer error as a 500.
pub fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// Writes the bold header row (row 0) and sets the column widths.
pub fn xlsx_header<S: AsRef<str>>(
    ws: &mut rust_xlsxwriter::Worksheet,
    header: &[S],
    widths: impl IntoIterator<Item = f64>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h.as_ref(), &bold)?;
    }
    for (c, w) in widths.into_iter().enumerate() {
        ws.set_column_width(c as u16, w)?;
    }
    Ok(())
}

/// Saves a workbook into an unlinked temporary file, rewound, for a workbook
/// too large to hold in memory (blocking; run it off the async workers).
pub fn xlsx_to_temp_file(wb: &mut rust_xlsxwriter::Workbook) -> AppResult<std::fs::File> {
    let temp = |e: std::io::Error| AppError::Internal(format!("xlsx temp file: {e}"));
    let path = std::env::temp_dir().join(format!(
        "qunjia-export-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(temp)?;
    // Unlinked at once: the open handle keeps the data until the download ends.
    let _ = std::fs::remove_file(&path);
    wb.save_to_writer(&mut file).map_err(xlsx_error)?;
    file.seek(SeekFrom::Start(0)).map_err(temp)?;
    Ok(file)
}

/// A file on disk as an attachment, read in 64 KiB chunks, with its length.
pub fn file_download(
    content_type: &str,
    filename: &str,
    file: std::fs::File,
) -> AppResult<HttpResponse> {
    let len = file
        .metadata()
        .map_err(|e| AppError::Internal(format!("download file: {e}")))?
        .len();
    let file = tokio::fs::File::from_std(file);
    let body = stream::try_unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), f)))
    });
    Ok(attachment(content_type, filename).body(SizedStream::new(len, body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_other_text_is_kept() {
        for s in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(s), format!("'{s}"));
        }
        assert_eq!(cell("米面油"), "米面油");
        assert_eq!(cell("'=already"), "'=already");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn csv_starts_with_the_bom_and_guards_every_cell() {
        let mut csv = Csv::new(&["姓名", "备注"]).expect("header");
        csv.line(["=1+1", "a,b"]).expect("line");
        let bytes = csv.finish().expect("bytes");
        assert_eq!(&bytes[..3], BOM);
        assert_eq!(
            std::str::from_utf8(&bytes[3..]).expect("utf-8"),
            "姓名,备注\n'=1+1,\"a,b\"\n"
        );
    }
}
