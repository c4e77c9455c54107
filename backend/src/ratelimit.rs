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
    Ok((count as u32 > limit).then(|| wait_secs(start, window_secs, now)))
}

/// Whether `key` is already at `limit`, without counting, from its row read
/// elsewhere (`count` hits in the window that began at `start`): `Some(secs)` to wait.
pub fn over(start: i64, count: i32, window_secs: i64, limit: u32, now: i64) -> Option<u64> {
    (count as u32 >= limit).then(|| wait_secs(start, window_secs, now))
}

/// Whole seconds (at least one) until the window that began at `start` ends.
fn wait_secs(start: i64, window_secs: i64, now: i64) -> u64 {
    let left_ms = (start + window_secs * 1000 - now).max(1000);
    ((left_ms + 999) / 1000) as u64
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
