//! Fixed-window counters kept in the database, so that every instance behind a
//! load balancer counts against the same numbers. One atomic upsert per hit.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::clock::now_ms;
use crate::db::stmt;

/// Counts a hit on `key`; `Ok(Some(secs))` when over `limit` in the current
/// `window_secs` window, with the seconds until the window ends.
pub async fn hit(
    db: &DatabaseConnection,
    key: &str,
    window_secs: i64,
    limit: u32,
) -> Result<Option<u64>, DbErr> {
    let now = now_ms();
    let expired_before = now - window_secs * 1000;
    // Both SET expressions read the row as it was before the update, on both engines.
    let sql = "INSERT INTO rate_limits (\"key\", window_start, count) VALUES (?, ?, 1) \
               ON CONFLICT (\"key\") DO UPDATE SET \
               count = CASE WHEN rate_limits.window_start <= ? THEN 1 ELSE rate_limits.count + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= ? THEN ? ELSE rate_limits.window_start END \
               RETURNING window_start, count";
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            sql,
            vec![
                key.into(),
                now.into(),
                expired_before.into(),
                expired_before.into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("upsert returned no row".into()))?;
    let start: i64 = row.try_get("", "window_start")?;
    let count: i32 = row.try_get("", "count")?;
    if count as u32 > limit {
        let left_ms = (start + window_secs * 1000 - now).max(1000);
        Ok(Some(((left_ms + 999) / 1000) as u64))
    } else {
        Ok(None)
    }
}

/// Whether `key` is already over `limit` in its current window, without counting:
/// `Some(secs)` until the window ends.
pub async fn blocked(
    db: &DatabaseConnection,
    key: &str,
    window_secs: i64,
    limit: u32,
) -> Result<Option<u64>, DbErr> {
    let now = now_ms();
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT window_start, count FROM rate_limits WHERE \"key\" = ? AND window_start > ?",
            vec![key.into(), (now - window_secs * 1000).into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let start: i64 = row.try_get("", "window_start")?;
    let count: i32 = row.try_get("", "count")?;
    Ok(over(start, count, window_secs, limit, now))
}

/// The verdict of [`blocked`] on a row read elsewhere (`count` hits in the window
/// that began at `start`): `Some(secs)` to wait when the limit is reached.
pub fn over(start: i64, count: i32, window_secs: i64, limit: u32, now: i64) -> Option<u64> {
    if count as u32 >= limit {
        let left_ms = (start + window_secs * 1000 - now).max(1000);
        Some(((left_ms + 999) / 1000) as u64)
    } else {
        None
    }
}

/// Gives back one hit (when the action it counted did not happen after all).
pub async fn refund(db: &DatabaseConnection, key: &str) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "UPDATE rate_limits SET count = count - 1 WHERE \"key\" = ? AND count > 0",
        vec![key.into()],
    ))
    .await?;
    Ok(())
}
