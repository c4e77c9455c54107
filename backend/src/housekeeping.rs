//! Housekeeping: the retention sweep. Every instance runs a sweeper (every
//! `housekeeping_interval_ms`, stopped with the server) that deletes what has
//! outlived its purpose: idempotency keys past their 24 h, one-time codes, old
//! rate-limit windows, refresh tokens long expired or revoked, and refused
//! check-ins past their retention (PIPL: personal data no longer than needed).
//! The audit log is append-only and never touched here.
//!
//! Deletes go in batches of [`BATCH`] rows per statement, each its own short
//! write, so the sweep never holds SQLite's write lock for long. Deleting is
//! idempotent, but only one instance should do the work per interval: it first
//! claims the job in `job_claims` with a conditional upsert (the row is taken
//! only when free or when its claim has run out), like the SMS outbox's claim;
//! an instance that finds the claim held skips that round.
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use serde::Serialize;

use crate::clock::now_ms;
use crate::config::Settings;
use crate::db::stmt;
use crate::error::AppResult;
use crate::state::AppState;

/// The claim name of the retention sweep in `job_claims`.
pub const JOB: &str = "housekeeping";

/// Rows one DELETE removes at most.
pub const BATCH: u64 = 1000;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Rows one sweep deleted, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Idempotency keys older than 24 h.
    pub idempotency_keys: u64,
    /// One-time codes expired longer than their retention.
    pub otp_codes: u64,
    /// Rate-limit windows that started longer ago than their retention.
    pub rate_limits: u64,
    /// Refresh tokens expired, or revoked, longer than their retention.
    pub refresh_tokens: u64,
    /// Refused check-ins older than their retention.
    pub checkin_failures: u64,
}

impl Report {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.idempotency_keys
            + self.otp_codes
            + self.rate_limits
            + self.refresh_tokens
            + self.checkin_failures
    }
}

fn days(n: u32) -> i64 {
    i64::from(n) * DAY_MS
}

/// Deletes, as of `now` (epoch ms), every row past its retention, in batches.
/// Safe to run beside another sweep: each row is deleted (and counted) once.
pub async fn sweep<C: ConnectionTrait>(db: &C, settings: &Settings, now: i64) -> AppResult<Report> {
    let r = &settings.retention;
    let report = Report {
        // `<=` as in `idempotency::once`: a key exactly 24 h old is no longer replayed.
        idempotency_keys: delete_batched(
            db,
            "idempotency_keys",
            "id",
            "created_at <= ?",
            vec![(now - crate::idempotency::KEY_TTL_MS).into()],
        )
        .await?,
        otp_codes: delete_batched(
            db,
            "otp_codes",
            "id",
            "expires_at < ?",
            vec![(now - days(r.otp_code_days)).into()],
        )
        .await?,
        rate_limits: delete_batched(
            db,
            "rate_limits",
            "\"key\"",
            "window_start < ?",
            vec![(now - days(r.rate_limit_days)).into()],
        )
        .await?,
        // A used token stays until it has expired (its successor's reuse detection
        // needs it while it still verifies); a revoked one at least as long.
        refresh_tokens: delete_batched(
            db,
            "refresh_tokens",
            "id",
            "expires_at < ? OR revoked_at < ?",
            vec![
                (now - days(r.refresh_expired_days)).into(),
                (now - days(r.refresh_revoked_days)).into(),
            ],
        )
        .await?,
        checkin_failures: delete_batched(
            db,
            "checkin_failures",
            "id",
            "at < ?",
            vec![(now - days(r.checkin_failure_days)).into()],
        )
        .await?,
    };
    tracing::info!(
        idempotency_keys = report.idempotency_keys,
        otp_codes = report.otp_codes,
        rate_limits = report.rate_limits,
        refresh_tokens = report.refresh_tokens,
        checkin_failures = report.checkin_failures,
        "housekeeping: deleted {} rows past their retention",
        report.total()
    );
    Ok(report)
}

/// `DELETE … WHERE key IN (SELECT key … WHERE cond LIMIT BATCH)` until a batch
/// comes back short. `table`, `key` and `cond` are constants of this module.
async fn delete_batched<C: ConnectionTrait>(
    db: &C,
    table: &str,
    key: &str,
    cond: &str,
    values: Vec<Value>,
) -> AppResult<u64> {
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {cond} LIMIT {BATCH})"
    );
    let backend = db.get_database_backend();
    let mut total = 0;
    loop {
        let n = db
            .execute_raw(stmt(backend, &sql, values.clone()))
            .await?
            .rows_affected();
        total += n;
        if n < BATCH {
            return Ok(total);
        }
        // Let the requests queued for SQLite's one connection go first.
        tokio::task::yield_now().await;
    }
}

/// Takes the claim on `job` for `instance` until `now + lease_ms` if it is free
/// or has run out; `false` when another instance holds it.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    job: &str,
    instance: &str,
    now: i64,
    lease_ms: i64,
) -> AppResult<bool> {
    // One statement on both engines: a concurrent twin waits on the primary key,
    // then finds the claim taken and changes nothing.
    let sql = "INSERT INTO job_claims (name, claimed_until, instance) VALUES (?, ?, ?) \
               ON CONFLICT (name) DO UPDATE SET \
               claimed_until = excluded.claimed_until, instance = excluded.instance \
               WHERE job_claims.claimed_until <= ?";
    let res = db
        .execute_raw(stmt(
            db.get_database_backend(),
            sql,
            vec![
                job.into(),
                (now + lease_ms).into(),
                instance.chars().take(64).collect::<String>().into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Claims the sweep for this interval and runs it; `None` when another instance
/// holds the claim.
pub async fn run_once(
    db: &DatabaseConnection,
    settings: &Settings,
    instance: &str,
    now: i64,
) -> AppResult<Option<Report>> {
    let lease = i64::try_from(settings.housekeeping_interval_ms).unwrap_or(i64::MAX / 2);
    if !claim(db, JOB, instance, now, lease).await? {
        tracing::debug!("housekeeping: another instance holds this interval's sweep");
        return Ok(None);
    }
    sweep(db, settings, now).await.map(Some)
}

/// Runs [`run_once`] every `housekeeping_interval_ms` until `stop` is closed
/// (its sender dropped), which happens when the server stops.
pub async fn sweeper(state: AppState, mut stop: tokio::sync::watch::Receiver<()>) {
    let instance = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let every = Duration::from_millis(state.settings.housekeeping_interval_ms.max(1));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = run_once(&state.db, &state.settings, &instance, now_ms()).await {
            tracing::warn!("housekeeping sweep failed: {e}");
        }
    }
    tracing::debug!("housekeeping sweeper stopped");
}
