//! Bulk import of units from CSV or XLSX, and the templates to fill in.
//!
//! The file's first row names the columns (the template's `中文(key)` headers,
//! the bare key or the Chinese name); every data row is checked before anything
//! is stored, and the rows go in together in one transaction or not at all.
use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use crate::clock::now_ms;
use crate::db::like_prefix;
use crate::entity::{regions, units};
use crate::error::{AppError, AppResult, RowError};
use crate::export::{self, Csv, xlsx_error};
use crate::units::service::{
    self, Invalid, NewUnit, UnitKind, parse_employees, parse_industry, parse_name, parse_uscc,
};
use crate::units::uscc::check_char;

/// Largest accepted upload.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most data rows in one file.
pub const MAX_ROWS: usize = 100_000;
/// Most problems listed in one answer.
pub const MAX_REPORTED: usize = 1_000;
/// Rows per INSERT statement.
const CHUNK: usize = 500;
/// Values per `IN (…)` look-up.
const LOOKUP_CHUNK: usize = 500;

/// The columns, in template order: key, Chinese header, other Chinese names, required.
const COLUMNS: [(&str, &str, &[&str], bool); 8] = [
    (
        "region_code",
        "区划代码",
        &["区域代码", "行政区划代码"],
        true,
    ),
    ("name", "单位名称", &["名称"], true),
    ("uscc", "统一社会信用代码", &["信用代码"], true),
    ("kind", "单位类型", &["类型"], true),
    ("employee_count", "职工人数", &["从业人数", "人数"], true),
    ("above_scale", "规模以上", &["是否规模以上"], false),
    (
        "has_party_org",
        "有党组织",
        &["是否有党组织", "党组织"],
        false,
    ),
    ("industry", "行业", &["所属行业"], false),
];
const REGION_CODE: usize = 0;
const NAME: usize = 1;
const USCC: usize = 2;
const KIND: usize = 3;
const EMPLOYEES: usize = 4;
const ABOVE_SCALE: usize = 5;
const PARTY_ORG: usize = 6;
const INDUSTRY: usize = 7;

/// The header cells of the templates: `区划代码(region_code)` …
pub fn template_headers() -> Vec<String> {
    COLUMNS
        .iter()
        .map(|(key, zh, _, _)| format!("{zh}({key})"))
        .collect()
}

/// The example row of the templates, in the given region.
pub fn template_example(region_code: &str) -> Vec<String> {
    let body = "91340100MA2N0EXA1";
    let uscc = format!("{body}{}", check_char(body).unwrap_or('0'));
    [
        region_code,
        "合肥示例科技有限公司",
        &uscc,
        "企业",
        "120",
        "是",
        "否",
        "软件和信息技术服务业",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// The CSV template (UTF-8 with a BOM, like every CSV download).
pub fn template_csv(region_code: &str) -> AppResult<Vec<u8>> {
    let mut w = Csv::new(&template_headers())?;
    w.line(template_example(region_code))?;
    w.finish()
}

/// The XLSX template; every cell is text so codes keep their leading digits.
pub fn template_xlsx(region_code: &str) -> AppResult<Vec<u8>> {
    let headers = template_headers();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("单位").map_err(xlsx_error)?;
    export::xlsx_header(sheet, &headers, std::iter::repeat_n(22.0, headers.len()))
        .map_err(xlsx_error)?;
    for (col, example) in template_example(region_code).into_iter().enumerate() {
        sheet
            .write_string(1, col as u16, example)
            .map_err(xlsx_error)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

// ---------------------------------------------------------------- reading

/// Which kind of file the bytes are, judged by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 text, BOM optional.
    Csv,
    /// Office Open XML workbook (a ZIP).
    Xlsx,
}

impl Format {
    /// XLSX starts with the ZIP magic; CSV is UTF-8 text; anything else is 415.
    pub fn detect(bytes: &[u8]) -> AppResult<Format> {
        if bytes.starts_with(b"PK\x03\x04") {
            return Ok(Format::Xlsx);
        }
        let text = bytes.strip_prefix(export::BOM).unwrap_or(bytes);
        if std::str::from_utf8(text).is_ok() && !text.contains(&0) {
            return Ok(Format::Csv);
        }
        Err(AppError::UnsupportedMediaType)
    }

    /// `csv` or `xlsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A sheet as text: rows of cells with their spreadsheet row number (header is row 1).
pub struct Sheet {
    /// (row number, cells).
    pub rows: Vec<(u32, Vec<String>)>,
}

fn too_many_rows() -> AppError {
    AppError::ImportInvalid(
        format!("一次最多导入{MAX_ROWS}行"),
        vec![RowError {
            row: (MAX_ROWS + 2) as u32,
            column: String::new(),
            reason: format!("超过{MAX_ROWS}行数据"),
        }],
    )
}

/// Reads the file into rows of text.
pub fn read(bytes: &[u8], format: Format) -> AppResult<Sheet> {
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
}

fn read_csv(bytes: &[u8]) -> AppResult<Sheet> {
    let text = bytes.strip_prefix(export::BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut rows = Vec::new();
    // The reader skips blank lines and quoted fields may span lines; the row a
    // spreadsheet shows is one more than the line breaks before the record,
    // less those inside earlier records' fields.
    let (mut counted_to, mut breaks, mut inner_breaks) = (0usize, 0u64, 0u64);
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|_| AppError::bad_request("CSV 文件格式不正确"))?;
        if i > MAX_ROWS {
            return Err(too_many_rows());
        }
        let start = record
            .position()
            .map_or(counted_to, |p| p.byte() as usize)
            .clamp(counted_to, text.len());
        let first = start
            + text[start..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        breaks += text[counted_to..first]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        counted_to = first;
        let row = (breaks + 1).saturating_sub(inner_breaks) as u32;
        inner_breaks += record
            .iter()
            .map(|f| f.bytes().filter(|b| *b == b'\n').count() as u64)
            .sum::<u64>();
        rows.push((row, record.iter().map(str::to_owned).collect()));
    }
    Ok(Sheet { rows })
}

fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        // Whole numbers typed into Excel arrive as floats: 340100.0 is "340100".
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> AppResult<Sheet> {
    let unreadable = |_| AppError::UnsupportedMediaType;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let first = book
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(AppError::UnsupportedMediaType)?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(unreadable)?;
    // Cells arrive one by one, so a sheet claiming a huge range costs nothing
    // beyond the cells actually present.
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (r, c) = cell.get_position();
        let c = c as usize;
        if c >= COLUMNS.len() * 4 {
            continue;
        }
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        if r as usize > MAX_ROWS {
            return Err(too_many_rows());
        }
        let row = rows.entry(r + 1).or_default();
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text;
    }
    Ok(Sheet {
        rows: rows.into_iter().collect(),
    })
}

// ---------------------------------------------------------------- checking

fn header_key(cell: &str) -> Option<usize> {
    let cell = cell.trim().trim_start_matches('\u{feff}').trim();
    // `中文(key)` or `中文（key）`: the key in brackets decides.
    let inner = cell
        .rfind(['(', '（'])
        .map(|open| {
            cell[open..]
                .trim_start_matches(['(', '（'])
                .trim_end_matches([')', '）'])
                .trim()
        })
        .filter(|k| !k.is_empty());
    let lower = cell.to_ascii_lowercase();
    COLUMNS.iter().position(|(key, zh, other, _)| {
        inner.is_some_and(|k| k.eq_ignore_ascii_case(key))
            || lower == *key
            || cell == *zh
            || other.contains(&cell)
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "否" | "false" | "0" | "n" | "no" => Some(false),
        "是" | "true" | "1" | "y" | "yes" => Some(true),
        _ => None,
    }
}

/// Problems found so far, capped at `MAX_REPORTED`.
#[derive(Default)]
struct Problems {
    list: Vec<RowError>,
    total: usize,
}

impl Problems {
    fn add(&mut self, row: u32, column: usize, reason: impl Into<String>) {
        self.total += 1;
        if self.list.len() < MAX_REPORTED {
            self.list.push(RowError {
                row,
                column: COLUMNS[column].0.to_owned(),
                reason: reason.into(),
            });
        }
    }

    fn into_error(mut self) -> AppError {
        self.list.sort_by_key(|e| e.row);
        let message = if self.total > self.list.len() {
            format!(
                "导入文件有{}处错误（仅列出前{}处），未导入任何数据",
                self.total,
                self.list.len()
            )
        } else {
            format!("导入文件有{}处错误，未导入任何数据", self.total)
        };
        AppError::ImportInvalid(message, self.list)
    }
}

/// A data row that passed the checks done without the database.
struct Parsed {
    row: u32,
    region_code: String,
    unit: NewUnit,
}

/// Checks every row; returns the units to store or the list of problems.
pub async fn check(
    db: &DatabaseConnection,
    scope: &regions::Model,
    sheet: Sheet,
) -> AppResult<Vec<NewUnit>> {
    let mut rows = sheet.rows.into_iter();
    let Some((header_row, header)) = rows.next().filter(|(n, _)| *n == 1) else {
        return Err(AppError::ImportInvalid(
            "第1行应为表头".into(),
            vec![RowError {
                row: 1,
                column: String::new(),
                reason: "缺少表头".into(),
            }],
        ));
    };
    let mut index: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    let mut problems = Problems::default();
    for (i, cell) in header.iter().enumerate() {
        if let Some(col) = header_key(cell) {
            if index[col].is_some() {
                problems.add(header_row, col, "列重复");
            }
            index[col] = Some(i);
        }
    }
    for (col, (_, zh, _, required)) in COLUMNS.iter().enumerate() {
        if *required && index[col].is_none() {
            problems.add(header_row, col, format!("缺少“{zh}”列"));
        }
    }
    if problems.total > 0 {
        return Err(problems.into_error());
    }

    // Pass 1: each row on its own.
    let mut parsed: Vec<Parsed> = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (row, cells) in rows {
        let get = |col: usize| -> &str {
            index[col]
                .and_then(|i| cells.get(i))
                .map_or("", |s| s.trim())
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let before = problems.total;
        let region_code = get(REGION_CODE).to_owned();
        if region_code.is_empty() {
            problems.add(row, REGION_CODE, "必填");
        }
        let name = match get(NAME) {
            "" => {
                problems.add(row, NAME, "必填");
                None
            }
            s => parse_name(s).map_err(|e| problems.add(row, NAME, e.1)).ok(),
        };
        let uscc = match get(USCC) {
            "" => {
                problems.add(row, USCC, "必填");
                None
            }
            s => match parse_uscc(s) {
                Ok(u) => match seen.get(u.as_str()) {
                    Some(first) => {
                        problems.add(row, USCC, format!("与第{first}行重复"));
                        None
                    }
                    None => {
                        seen.insert(u.as_str().to_owned(), row);
                        Some(u)
                    }
                },
                Err(e) => {
                    problems.add(row, USCC, e.1);
                    None
                }
            },
        };
        let kind = match get(KIND) {
            "" => {
                problems.add(row, KIND, "必填");
                None
            }
            s => UnitKind::parse_cell(s)
                .map_err(|_| {
                    problems.add(
                        row,
                        KIND,
                        "应为 企业、社会组织、行业协会、平台（或 enterprise、social_org、association、platform）",
                    )
                })
                .ok(),
        };
        let employees = match get(EMPLOYEES) {
            "" => {
                problems.add(row, EMPLOYEES, "必填");
                None
            }
            s => s
                .parse::<i64>()
                .map_err(|_| Invalid("", "职工人数应为0到1000000之间的整数"))
                .and_then(parse_employees)
                .map_err(|e| problems.add(row, EMPLOYEES, e.1))
                .ok(),
        };
        let flag = |col: usize, problems: &mut Problems| {
            parse_bool(get(col))
                .ok_or_else(|| problems.add(row, col, "应为 是/否、true/false、1/0 或 Y/N"))
                .ok()
        };
        let above_scale = flag(ABOVE_SCALE, &mut problems);
        let has_party_org = flag(PARTY_ORG, &mut problems);
        let industry = parse_industry(Some(get(INDUSTRY)))
            .map_err(|e| problems.add(row, INDUSTRY, e.1))
            .ok()
            .flatten();
        if problems.total > before {
            continue;
        }
        if let (Some(name), Some(uscc), Some(kind), Some(employee_count), Some(a), Some(p)) =
            (name, uscc, kind, employees, above_scale, has_party_org)
        {
            parsed.push(Parsed {
                row,
                region_code,
                unit: NewUnit {
                    name,
                    uscc,
                    kind,
                    region_id: 0,
                    employee_count,
                    above_scale: a,
                    has_party_org: p,
                    industry,
                },
            });
        }
    }
    if parsed.is_empty() && problems.total == 0 {
        return Err(AppError::ImportInvalid(
            "文件中没有数据行".into(),
            vec![RowError {
                row: 2,
                column: String::new(),
                reason: "没有数据".into(),
            }],
        ));
    }

    // Pass 2: against the database — regions of the subtree, codes already registered.
    let subtree: HashMap<String, i64> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .column(regions::Column::Id)
        .filter(Expr::col(regions::Column::Path).like(like_prefix(&scope.path)))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let unknown: Vec<String> = parsed
        .iter()
        .filter(|p| !subtree.contains_key(&p.region_code))
        .map(|p| p.region_code.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut elsewhere: HashSet<String> = HashSet::new();
    for chunk in unknown.chunks(LOOKUP_CHUNK) {
        elsewhere.extend(
            regions::Entity::find()
                .select_only()
                .column(regions::Column::Code)
                .filter(regions::Column::Code.is_in(chunk.iter().cloned()))
                .into_tuple::<String>()
                .all(db)
                .await?,
        );
    }
    let codes: Vec<String> = parsed
        .iter()
        .map(|p| p.unit.uscc.as_str().to_owned())
        .collect();
    let mut taken: HashSet<String> = HashSet::new();
    for chunk in codes.chunks(LOOKUP_CHUNK) {
        taken.extend(
            units::Entity::find()
                .select_only()
                .column(units::Column::Uscc)
                .filter(units::Column::Uscc.is_in(chunk.iter().cloned()))
                .into_tuple::<String>()
                .all(db)
                .await?,
        );
    }
    let mut out = Vec::with_capacity(parsed.len());
    for mut p in parsed {
        match subtree.get(&p.region_code) {
            Some(id) => p.unit.region_id = *id,
            None if elsewhere.contains(&p.region_code) => {
                problems.add(p.row, REGION_CODE, "该区域不在本次导入的区域范围内");
            }
            None => problems.add(p.row, REGION_CODE, "区划代码不存在"),
        }
        if taken.contains(p.unit.uscc.as_str()) {
            problems.add(p.row, USCC, "该统一社会信用代码已登记");
        }
        out.push(p.unit);
    }
    if problems.total > 0 {
        return Err(problems.into_error());
    }
    Ok(out)
}

/// Stores checked rows: every unit and the audit entry commit together, or none.
pub async fn import(
    db: &DatabaseConnection,
    scope: &regions::Model,
    rows: Vec<NewUnit>,
    format: Format,
    actor: i64,
    ip: Option<String>,
) -> AppResult<usize> {
    let region_id = scope.id;
    db.transaction::<_, usize, AppError>(|txn| {
        Box::pin(async move {
            let n = store(txn, rows).await?;
            crate::audit::record(
                txn,
                crate::audit::Entry {
                    actor: Some(actor),
                    action: "unit.import",
                    target: format!("region:{region_id}"),
                    region_id: Some(region_id),
                    ip,
                    detail: Some(serde_json::json!({
                        "imported": n,
                        "format": format.as_str(),
                    })),
                },
            )
            .await?;
            Ok(n)
        })
    })
    .await
    .map_err(Into::into)
}

/// Stores the units in chunked multi-row INSERTs (inside the caller's transaction).
pub async fn store<C: sea_orm::ConnectionTrait>(db: &C, units_: Vec<NewUnit>) -> AppResult<usize> {
    let now = now_ms();
    let n = units_.len();
    let mut rows = units_.into_iter().map(|u| u.into_active(now)).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        units::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .map_err(service::uscc_taken)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_in_every_spelling() {
        assert_eq!(header_key("区划代码(region_code)"), Some(REGION_CODE));
        assert_eq!(header_key("统一社会信用代码（uscc）"), Some(USCC));
        assert_eq!(
            header_key("\u{feff}区划代码(region_code)"),
            Some(REGION_CODE)
        );
        assert_eq!(header_key("Employee_Count"), Some(EMPLOYEES));
        assert_eq!(header_key("行业"), Some(INDUSTRY));
        assert_eq!(header_key("备注"), None);
        for (i, h) in template_headers().iter().enumerate() {
            assert_eq!(header_key(h), Some(i), "{h}");
        }
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        for t in ["是", "true", "TRUE", "1", "Y", "y", "yes"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["否", "false", "0", "N", "n", "", "no"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("有"), None);
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let rows = |text: &str| -> Vec<u32> {
            read_csv(text.as_bytes())
                .map(|s| s.rows.into_iter().map(|(n, _)| n).collect())
                .unwrap_or_default()
        };
        assert_eq!(rows("h\na\nb\n"), [1, 2, 3]);
        assert_eq!(rows("h\r\na\r\n\r\nb\r\n"), [1, 2, 4]);
        assert_eq!(rows("h\n\"x\ny\",1\nb"), [1, 2, 3]);
        assert_eq!(rows("\u{feff}h\n\n\nb\n"), [1, 4]);
    }

    #[test]
    fn format_is_judged_by_content() {
        assert_eq!(Format::detect(b"PK\x03\x04rest").ok(), Some(Format::Xlsx));
        assert_eq!(Format::detect(b"\xEF\xBB\xBFa,b\n").ok(), Some(Format::Csv));
        assert_eq!(
            Format::detect("区划,名称\n".as_bytes()).ok(),
            Some(Format::Csv)
        );
        assert!(Format::detect(b"\x89PNG\r\n\x1a\n\0\0").is_err());
        assert!(Format::detect(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").is_err());
    }

    #[test]
    fn the_example_row_is_valid() {
        let row = template_example("340100");
        assert!(parse_uscc(&row[USCC]).is_ok());
        assert!(UnitKind::parse_cell(&row[KIND]).is_ok());
    }
}
