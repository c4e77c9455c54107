//! Group commit for check-ins without an `Idempotency-Key`: one writer task takes
//! every check-in waiting at that moment and commits them in ONE statement (a
//! multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`, atomic on its own, the
//! counter kept by trigger in the same statement), then answers each caller. So a
//! crowd at the door costs one commit (one fsync on PostgreSQL, one WAL frame set
//! on SQLite) per batch instead of one per person, and the writers never queue on
//! the activity's counter row: there is one writer.
//!
//! - A 2xx is given only after its batch committed (the answer comes after the statement).
//! - A person already standing is not inserted (the partial unique index decides,
//!   also between twins in the same batch); the caller learns `None` and answers 200.
//! - When the batch statement fails (an activity deleted meanwhile, say), each
//!   check-in of it is tried alone, so one refused row does not fail the others.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult};
use tokio::sync::{mpsc, oneshot};

use crate::checkin::service::{self, Method};
use crate::db::stmt;
use crate::entity::checkins;
use crate::error::{AppError, AppResult};

/// The most check-ins one batch carries (5 parameters each, far below either engine's limit).
pub const MAX_BATCH: usize = 256;
/// Check-ins that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

/// What a caller gets: the new row, or `None` when a standing check-in was there.
type Answer = AppResult<Option<checkins::Model>>;

struct Job {
    activity_id: i64,
    user_id: i64,
    method: Method,
    scanned_at: Option<i64>,
    now_ms: i64,
    reply: oneshot::Sender<Answer>,
}

/// The handle on the writer task; cheap to clone. The task ends when the last handle goes.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    batches: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer task on `db`. Needs a Tokio runtime.
    pub fn start(db: DatabaseConnection) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let batches = Arc::new(AtomicU64::new(0));
        tokio::spawn(run(db, rx, batches.clone()));
        Writer { tx, batches }
    }

    /// Batches committed so far (each one statement, however many check-ins it carried).
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Inserts the standing check-in and answers once it committed: the row, or
    /// `None` when the person already had one.
    pub async fn insert(
        &self,
        activity_id: i64,
        user_id: i64,
        method: Method,
        scanned_at: Option<i64>,
        now_ms: i64,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                activity_id,
                user_id,
                method,
                scanned_at,
                now_ms,
                reply,
            })
            .await
            .map_err(|_| AppError::Internal("check-in writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("check-in writer dropped a check-in".into()))?
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>, batches: Arc<AtomicU64>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit(&db, std::mem::take(&mut batch)).await;
        batches.fetch_add(1, Ordering::Relaxed);
    }
}

/// Commits one batch and answers every job of it.
async fn commit(db: &DatabaseConnection, jobs: Vec<Job>) {
    match insert_many(db, &jobs).await {
        Ok(mut rows) => {
            for job in jobs {
                // The first job of a (activity, person) pair takes the row; a twin in
                // the same batch, or one already standing, gets `None`.
                let row = rows
                    .iter()
                    .position(|r| r.activity_id == job.activity_id && r.user_id == job.user_id)
                    .map(|i| rows.swap_remove(i));
                let _ = job.reply.send(Ok(row));
            }
        }
        Err(_) => {
            for job in jobs {
                let answer = match service::insert(
                    db,
                    job.activity_id,
                    job.user_id,
                    job.method,
                    job.scanned_at,
                    None,
                    job.now_ms,
                )
                .await
                {
                    Ok(row) => Ok(Some(row)),
                    Err(e) if service::is_already(&e) => Ok(None),
                    Err(e) => Err(e),
                };
                let _ = job.reply.send(answer);
            }
        }
    }
}

/// The batch as one statement; the rows it inserted.
async fn insert_many(db: &DatabaseConnection, jobs: &[Job]) -> AppResult<Vec<checkins::Model>> {
    let mut sql = String::from(
        "INSERT INTO checkins (activity_id, user_id, method, checked_in_at, scanned_at) VALUES ",
    );
    let mut values = Vec::with_capacity(jobs.len() * 5);
    for (i, job) in jobs.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?, ?, ?, ?, ?)");
        values.push(job.activity_id.into());
        values.push(job.user_id.into());
        values.push(job.method.as_str().into());
        values.push(job.now_ms.into());
        values.push(job.scanned_at.into());
    }
    sql.push_str(
        " ON CONFLICT DO NOTHING RETURNING id, activity_id, user_id, method, checked_in_at, \
         scanned_at, recorded_by, reason, undone_at, undone_by, undo_reason",
    );
    let rows = db
        .query_all_raw(stmt(db.get_database_backend(), &sql, values))
        .await?;
    rows.iter()
        .map(|r| checkins::Model::from_query_result(r, "").map_err(AppError::from))
        .collect()
}
