//! `qunjia rekey`: re-seals every stored value under the current data key, so
//! that an earlier key (kept in `QUNJIA_DATA_KEY_PREVIOUS` meanwhile) can be
//! destroyed. Servers may keep running: each value is replaced only if it is
//! still the one that was read (`WHERE id = ? AND col = <old>`), so a
//! concurrent edit is never overwritten (it is sealed with the current key
//! anyway). Running it again finds nothing left to do.
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait, Value};

use super::{DataKey, OpenedWith};
use crate::error::AppResult;

/// A column holding sealed values.
#[derive(Clone, Copy, Debug)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// Raw bytes (`seal_bytes`) rather than `v1:` text.
    pub bytes: bool,
}

const fn text(table: &'static str, column: &'static str) -> SealedColumn {
    SealedColumn {
        table,
        column,
        bytes: false,
    }
}

/// Every column the server seals. A new sealed column belongs here.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    text("cases", "description_enc"),
    text("cases", "details_enc"),
    text("case_events", "note_enc"),
    text("case_messages", "body_enc"),
    text("case_attachments", "name_enc"),
    SealedColumn {
        table: "case_attachments",
        column: "data_enc",
        bytes: true,
    },
    text("campaign_visits", "note"),
];

/// What happened to one column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnReport {
    /// Opened with an earlier key and sealed again with the current one.
    pub resealed: u64,
    /// Already under the current key.
    pub current: u64,
    /// Changed by someone else between the read and the write (left as it is).
    pub changed_meanwhile: u64,
    /// Opened with none of the configured keys (left as it is).
    pub unreadable: u64,
}

/// Text rows per transaction; attachments go a few at a time (up to 5 MiB each).
const TEXT_BATCH: u64 = 500;
const BYTES_BATCH: u64 = 8;

/// Re-seals every column of [`SEALED_COLUMNS`]; `progress` hears of each column when done.
pub async fn rekey(
    db: &DatabaseConnection,
    key: &DataKey,
    mut progress: impl FnMut(&SealedColumn, &ColumnReport),
) -> AppResult<Vec<(SealedColumn, ColumnReport)>> {
    let mut out = Vec::with_capacity(SEALED_COLUMNS.len());
    for col in SEALED_COLUMNS {
        let report = rekey_column(db, key, col).await?;
        progress(col, &report);
        out.push((*col, report));
    }
    Ok(out)
}

/// A stored value of a sealed column.
#[derive(Clone, PartialEq)]
enum Stored {
    Text(String),
    Bytes(Vec<u8>),
}

impl Stored {
    fn value(&self) -> Value {
        match self {
            Stored::Text(s) => s.clone().into(),
            Stored::Bytes(b) => b.clone().into(),
        }
    }

    /// The value under the current key, or `None` when it already is.
    fn resealed(&self, key: &DataKey) -> AppResult<Option<Stored>> {
        Ok(match self {
            Stored::Text(s) => match key.open_with(s)? {
                (_, OpenedWith::Current) => None,
                (plain, OpenedWith::Previous) => Some(Stored::Text(key.seal(&plain))),
            },
            Stored::Bytes(b) => match key.open_bytes_with(b)? {
                (_, OpenedWith::Current) => None,
                (plain, OpenedWith::Previous) => Some(Stored::Bytes(key.seal_bytes(&plain))),
            },
        })
    }
}

async fn rekey_column(
    db: &DatabaseConnection,
    key: &DataKey,
    col: &SealedColumn,
) -> AppResult<ColumnReport> {
    let (table, column) = (Alias::new(col.table), Alias::new(col.column));
    let batch = if col.bytes { BYTES_BATCH } else { TEXT_BATCH };
    let mut report = ColumnReport::default();
    let mut after = 0i64;
    loop {
        let select = Query::select()
            .columns([Alias::new("id"), column.clone()])
            .from(table.clone())
            .and_where(Expr::col(Alias::new("id")).gt(after))
            .and_where(Expr::col(column.clone()).is_not_null())
            .order_by(Alias::new("id"), sea_orm::Order::Asc)
            .limit(batch)
            .to_owned();
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(report);
        };
        after = last.try_get::<i64>("", "id")?;
        let txn = db.begin().await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let old = if col.bytes {
                Stored::Bytes(row.try_get("", col.column)?)
            } else {
                Stored::Text(row.try_get("", col.column)?)
            };
            let new = match old.resealed(key) {
                Ok(Some(new)) => new,
                Ok(None) => {
                    report.current += 1;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(table = col.table, column = col.column, id, "rekey: {e:?}");
                    report.unreadable += 1;
                    continue;
                }
            };
            let update = Query::update()
                .table(table.clone())
                .value(column.clone(), new.value())
                .and_where(Expr::col(Alias::new("id")).eq(id))
                .and_where(Expr::col(column.clone()).eq(old.value()))
                .to_owned();
            match txn.execute(&update).await?.rows_affected() {
                1 => report.resealed += 1,
                _ => report.changed_meanwhile += 1,
            }
        }
        txn.commit().await?;
    }
}
