//! Check-in logic: who manages an activity's door, what a scan must satisfy, and
//! the writes (one standing check-in per person, the counter kept in the same
//! transaction, refused attempts kept outside it).
use actix_web::HttpResponse;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, TransactionTrait,
};

use crate::audit::{self, Entry};
use crate::auth::phone::Phone;
use crate::checkin::dto::{
    Checkin, CheckinFailure, CheckinQr, CheckinRequest, ManualCheckin, MyCheckin, UndoneCheckin,
};
use crate::checkin::token::{self, GRACE_SECS, WINDOW_SECS};
use crate::clock::rfc3339;
use crate::entity::{activities, checkin_failures, checkins, users};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageQuery};

/// A check-in opens this long before the activity starts.
pub const OPENS_BEFORE_MS: i64 = 30 * 60 * 1000;
/// A queued (offline) scan must reach the server within this long.
pub const OFFLINE_MAX_MS: i64 = 24 * 3600 * 1000;
/// Tolerated clock difference between a phone and the server.
const SKEW_MS: i64 = 60 * 1000;
/// How far back a typed code is recognised as merely expired, in windows.
const CODE_LOOKBACK: i64 = 10;
/// Error code used inside the write to say "a standing check-in exists"; it never
/// reaches a client (the route answers 200 `already: true` instead).
pub(crate) const ALREADY: &str = "already_checked_in";

/// A rule a check-in attempt broke; each is kept in `checkin_failures` by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 422: not a token of ours, or a wrong code.
    InvalidToken,
    /// 410: too old.
    TokenExpired,
    /// 422: cancelled, or outside starts_at − 30 min … ends_at.
    NotOpen,
    /// 422: sign-up required and none active.
    NotSignedUp,
    /// 403: members audience and not an active member.
    MembersOnly,
}

impl Refusal {
    /// The API error code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::InvalidToken => "invalid_token",
            Refusal::TokenExpired => "token_expired",
            Refusal::NotOpen => "not_open",
            Refusal::NotSignedUp => "not_signed_up",
            Refusal::MembersOnly => "members_only",
        }
    }
}

impl Refusal {
    fn message(self) -> &'static str {
        match self {
            Refusal::InvalidToken => "签到码无效",
            Refusal::TokenExpired => "签到码已过期，请重新扫描",
            Refusal::NotOpen => "现在不在签到时间内",
            Refusal::NotSignedUp => "该活动需要先报名",
            Refusal::MembersOnly => "该活动只对组织成员开放",
        }
    }

    /// The error body of API.md with this refusal's status.
    pub fn response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&AppError::from(self))
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> AppError {
        match r {
            Refusal::TokenExpired => AppError::Gone(r.code(), r.message()),
            Refusal::MembersOnly => AppError::Forbidden(r.code(), r.message()),
            _ => AppError::Unprocessable(r.code(), r.message().to_owned()),
        }
    }
}

/// How the person proved presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Scanned the QR code.
    Qr,
    /// Typed the short code.
    ShortCode,
    /// Recorded by an officer.
    Manual,
}

impl Method {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Qr => "qr",
            Method::ShortCode => "short_code",
            Method::Manual => "manual",
        }
    }
}

/// A parsed check-in request.
pub struct Attempt {
    credential: Credential,
    /// When the scan happened (epoch ms), for queued offline scans.
    pub scanned_at: Option<i64>,
}

enum Credential {
    Token(String),
    Code { activity_id: i64, code: String },
}

impl Attempt {
    /// Parses the body: 400 unless it has a token, or an activity id with a short code.
    pub fn parse(body: CheckinRequest) -> AppResult<Attempt> {
        let scanned_at = match body.scanned_at.as_deref() {
            None => None,
            Some(s) => Some(
                crate::clock::parse_rfc3339_ms(s)
                    .ok_or_else(|| AppError::bad_request("scanned_at 应为 RFC 3339 时间"))?,
            ),
        };
        let credential = match (body.token, body.activity_id, body.short_code) {
            (Some(t), None, None) => Credential::Token(t),
            (None, Some(activity_id), Some(code)) => Credential::Code { activity_id, code },
            _ => {
                return Err(AppError::bad_request(
                    "请提供 token，或 activity_id 与 short_code",
                ));
            }
        };
        Ok(Attempt {
            credential,
            scanned_at,
        })
    }

    /// How the person is checking in.
    pub fn method(&self) -> Method {
        match self.credential {
            Credential::Token(_) => Method::Qr,
            Credential::Code { .. } => Method::ShortCode,
        }
    }
}

/// A refused attempt: the rule, and the activity when it is known.
pub struct Refused {
    /// The activity the attempt named, when it exists.
    pub activity_id: Option<i64>,
    /// The rule.
    pub refusal: Refusal,
}

fn cancelled(activity: &activities::Model) -> bool {
    activity.status == "cancelled"
}

/// The kiosk's current token, code and timing.
pub fn qr(
    secret: &[u8],
    public_url: &str,
    activity: &activities::Model,
    now_ms: i64,
) -> AppResult<CheckinQr> {
    if cancelled(activity) {
        return Err(AppError::Conflict("conflict", "活动已取消".into()));
    }
    let key = token::activity_key(secret, &activity.checkin_key);
    let window = token::window_of(now_ms.div_euclid(1000));
    let token = token::sign(&key, activity.id, window);
    let next_ms = (window + 1) * WINDOW_SECS * 1000;
    Ok(CheckinQr {
        url: format!("{}/c/{token}", public_url.trim_end_matches('/')),
        short_code: token::short_code(&key, activity.id, window),
        token,
        expires_at: rfc3339(next_ms + GRACE_SECS * 1000),
        refresh_after: std::cmp::max((next_ms - now_ms + 999) / 1000, 1),
    })
}

/// Whether a token of `window` is still taken: online until the window's end plus
/// the grace; queued offline when `scanned_at` falls within the window (± the
/// grace) and the request arrives within 24 h of it.
fn in_time(window: i64, scanned_at: Option<i64>, now_ms: i64) -> bool {
    let start = window * WINDOW_SECS * 1000;
    let end = start + WINDOW_SECS * 1000;
    let grace = GRACE_SECS * 1000;
    match scanned_at {
        None => now_ms < end + grace,
        Some(s) => {
            (start - grace..=end + grace).contains(&s)
                && now_ms - s <= OFFLINE_MAX_MS
                && s <= now_ms + SKEW_MS
        }
    }
}

/// What the admission of one attempt decided.
pub enum Admission {
    /// The person is over the wrong-code limit: wait this many seconds.
    Blocked(u64),
    /// A rule refused the attempt.
    Refused(Refused),
    /// The activity the attempt checks into.
    Admitted(Box<activities::Model>),
}

/// The wrong-code guard an attempt is checked against first: whoever got `limit`
/// wrong within `window_secs` waits, right code or not.
pub struct Guard<'a> {
    /// The `rate_limits` key.
    pub key: &'a str,
    /// The window.
    pub window_secs: i64,
    /// Wrong attempts allowed in it.
    pub limit: u32,
}

/// The activity (if it exists) and the guard's verdict in ONE statement: they are
/// read on every check-in, so a check-in pays one round trip for both.
async fn activity_and_guard(
    db: &DatabaseConnection,
    activity_id: Option<i64>,
    guard: &Guard<'_>,
    now_ms: i64,
) -> AppResult<(Option<activities::Model>, Option<u64>)> {
    let row = db
        .query_one_raw(crate::db::stmt(
            db.get_database_backend(),
            "SELECT a.*, r.window_start AS rl_window_start, r.count AS rl_count \
             FROM (SELECT 1 AS one) o \
             LEFT JOIN activities a ON a.id = ? \
             LEFT JOIN rate_limits r ON r.\"key\" = ? AND r.window_start > ?",
            vec![
                activity_id.into(),
                guard.key.into(),
                (now_ms - guard.window_secs * 1000).into(),
            ],
        ))
        .await?
        .ok_or_else(|| AppError::Internal("admission read no row".into()))?;
    let blocked = match (
        row.try_get::<Option<i64>>("", "rl_window_start")?,
        row.try_get::<Option<i32>>("", "rl_count")?,
    ) {
        (Some(start), Some(count)) => {
            crate::ratelimit::over(start, count, guard.window_secs, guard.limit, now_ms)
        }
        _ => None,
    };
    let activity = match row.try_get::<Option<i64>>("", "id")? {
        Some(_) => Some(activities::Model::from_query_result(&row, "")?),
        None => None,
    };
    Ok((activity, blocked))
}

/// Checks the wrong-code guard and then every rule of API.md for one attempt.
pub async fn admit(
    db: &DatabaseConnection,
    secret: &[u8],
    user: &users::Model,
    attempt: &Attempt,
    guard: &Guard<'_>,
    now_ms: i64,
) -> AppResult<Admission> {
    let refuse = |activity_id, refusal| {
        Admission::Refused(Refused {
            activity_id,
            refusal,
        })
    };
    let activity_id = match &attempt.credential {
        Credential::Token(t) => token::peek(t).map(|c| c.activity_id),
        Credential::Code { activity_id, .. } => Some(*activity_id),
    };
    let (activity, blocked) = activity_and_guard(db, activity_id, guard, now_ms).await?;
    if let Some(secs) = blocked {
        return Ok(Admission::Blocked(secs));
    }
    let Some(activity) = activity else {
        return Ok(refuse(None, Refusal::InvalidToken));
    };
    let known = Some(activity.id);
    let key = token::activity_key(secret, &activity.checkin_key);
    let reference = attempt.scanned_at.unwrap_or(now_ms);
    let window = match &attempt.credential {
        Credential::Token(t) => match token::verify(&key, t) {
            Some(c) if c.activity_id == activity.id => c.window,
            _ => return Ok(refuse(known, Refusal::InvalidToken)),
        },
        Credential::Code { code, .. } => {
            let typed = token::normalise_code(code);
            let w = token::window_of(reference.div_euclid(1000));
            let found = (w - CODE_LOOKBACK..=w + 1)
                .rev()
                .find(|c| token::same_code(&token::short_code(&key, activity.id, *c), &typed));
            match found {
                Some(c) => c,
                None => return Ok(refuse(known, Refusal::InvalidToken)),
            }
        }
    };
    if !in_time(window, attempt.scanned_at, now_ms) {
        return Ok(refuse(known, Refusal::TokenExpired));
    }
    if cancelled(&activity)
        || reference < activity.starts_at - OPENS_BEFORE_MS
        || reference > activity.ends_at
    {
        return Ok(refuse(known, Refusal::NotOpen));
    }
    match crate::activities::access::may_attend_user(db, user.id, &activity).await {
        Ok(()) => {}
        Err(AppError::Forbidden("members_only", _)) => {
            return Ok(refuse(known, Refusal::MembersOnly));
        }
        Err(e) => return Err(e),
    }
    if activity.signup_required {
        let signed = crate::entity::signups::Entity::find()
            .filter(crate::entity::signups::Column::ActivityId.eq(activity.id))
            .filter(crate::entity::signups::Column::UserId.eq(user.id))
            .filter(crate::entity::signups::Column::Status.eq("active"))
            .one(db)
            .await?;
        if signed.is_none() {
            return Ok(refuse(known, Refusal::NotSignedUp));
        }
    }
    Ok(Admission::Admitted(Box::new(activity)))
}

/// Keeps a refused attempt (on the connection, outside any rolled-back transaction).
pub async fn log_failure(
    db: &DatabaseConnection,
    activity_id: Option<i64>,
    user_id: i64,
    reason: &str,
    method: Method,
    now_ms: i64,
) -> AppResult<()> {
    checkin_failures::Entity::insert(checkin_failures::ActiveModel {
        activity_id: Set(activity_id),
        user_id: Set(user_id),
        reason: Set(reason.chars().take(32).collect()),
        method: Set(method.as_str().to_owned()),
        at: Set(now_ms),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// What an officer adds to a check-in recorded by hand.
pub struct Recorded {
    /// The officer.
    pub by: i64,
    /// Why.
    pub reason: String,
}

/// Inserts the standing check-in (counted by the database in the same statement).
/// A standing one already there makes this fail with the internal `ALREADY` code
/// (test with [`is_already`]); the unique index decides, so racing twins cannot both win.
pub async fn insert<C: ConnectionTrait>(
    txn: &C,
    activity_id: i64,
    user_id: i64,
    method: Method,
    scanned_at: Option<i64>,
    recorded: Option<Recorded>,
    now_ms: i64,
) -> AppResult<checkins::Model> {
    let (recorded_by, reason) = match recorded {
        Some(r) => (Some(r.by), Some(r.reason)),
        None => (None, None),
    };
    let row = checkins::Entity::insert(checkins::ActiveModel {
        activity_id: Set(activity_id),
        user_id: Set(user_id),
        method: Set(method.as_str().to_owned()),
        checked_in_at: Set(now_ms),
        scanned_at: Set(scanned_at),
        recorded_by: Set(recorded_by),
        reason: Set(reason),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict(ALREADY, "已签到".into())
        }
        _ => e.into(),
    })?;
    // `activities.checked_in` follows by trigger (migration 5), in the same statement.
    Ok(row)
}

/// Whether an error is the "already checked in" signal of [`insert`].
pub fn is_already(e: &AppError) -> bool {
    matches!(e, AppError::Conflict(code, _) if *code == ALREADY)
}

/// The person's standing check-in for the activity.
pub async fn standing<C: ConnectionTrait>(
    db: &C,
    activity_id: i64,
    user_id: i64,
) -> AppResult<Option<checkins::Model>> {
    Ok(checkins::Entity::find()
        .filter(checkins::Column::ActivityId.eq(activity_id))
        .filter(checkins::Column::UserId.eq(user_id))
        .filter(checkins::Column::UndoneAt.is_null())
        .one(db)
        .await?)
}

/// The person's view of a check-in.
pub fn view(row: &checkins::Model, already: bool) -> Checkin {
    Checkin {
        id: row.id,
        activity_id: row.activity_id,
        user_id: row.user_id,
        checked_in_at: rfc3339(row.checked_in_at),
        already,
    }
}

/// The officer's view of a check-in.
pub fn manual_view(row: &checkins::Model, already: bool) -> ManualCheckin {
    ManualCheckin {
        id: row.id,
        activity_id: row.activity_id,
        user_id: row.user_id,
        checked_in_at: rfc3339(row.checked_in_at),
        already,
        method: row.method.clone(),
        recorded_by: row.recorded_by,
        reason: row.reason.clone(),
    }
}

/// A required free-text reason: trimmed, 1–500 characters.
pub fn reason(raw: &str) -> AppResult<String> {
    let r = raw.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(AppError::rule("invalid_reason", "请填写原因（500字以内）"));
    }
    Ok(r.to_owned())
}

/// The region of the activity's org, for the audit log.
pub async fn region_of(db: &DatabaseConnection, activity: &activities::Model) -> Option<i64> {
    crate::audit::org_region(db, activity.org_id)
        .await
        .ok()
        .flatten()
}

/// Undoes a standing check-in (uncounted by trigger); 409 when it was already undone.
/// The undo and its audit entry commit together.
pub async fn undo(
    db: &DatabaseConnection,
    row: &checkins::Model,
    activity: &activities::Model,
    (by, ip): (i64, Option<String>),
    why: String,
    now_ms: i64,
) -> AppResult<checkins::Model> {
    let region_id = region_of(db, activity).await;
    let txn = db.begin().await?;
    let done = checkins::Entity::update_many()
        .col_expr(checkins::Column::UndoneAt, Expr::value(now_ms))
        .col_expr(checkins::Column::UndoneBy, Expr::value(by))
        .col_expr(checkins::Column::UndoReason, Expr::value(why.clone()))
        .filter(checkins::Column::Id.eq(row.id))
        .filter(checkins::Column::UndoneAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::Conflict("conflict", "该签到已撤销".into()));
    }
    let updated = checkins::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &txn,
        Entry {
            actor: Some(by),
            action: "checkin.undo",
            target: format!("checkin:{}", row.id),
            region_id,
            ip,
            detail: Some(serde_json::json!({
                "activity_id": activity.id, "user_id": row.user_id, "reason": why
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// The history view of an undone check-in.
pub fn undone_view(row: &checkins::Model) -> UndoneCheckin {
    UndoneCheckin {
        id: row.id,
        activity_id: row.activity_id,
        user_id: row.user_id,
        method: row.method.clone(),
        checked_in_at: rfc3339(row.checked_in_at),
        undone_at: rfc3339(row.undone_at.unwrap_or_default()),
        undone_by: row.undone_by,
        undo_reason: row.undo_reason.clone(),
    }
}

/// The person a phone number belongs to; 422 `unknown_person` when none.
pub async fn person_by_phone(db: &DatabaseConnection, raw: &str) -> AppResult<users::Model> {
    let phone = Phone::parse(raw)?;
    users::Entity::find()
        .filter(users::Column::Phone.eq(phone.as_str()))
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::rule("unknown_person", "没有使用该手机号的用户"))
}

/// Refused attempts at an activity, newest first.
pub async fn failures(
    db: &DatabaseConnection,
    activity_id: i64,
    page: &PageQuery,
) -> AppResult<Page<CheckinFailure>> {
    let q = checkin_failures::Entity::find()
        .filter(checkin_failures::Column::ActivityId.eq(activity_id));
    let rows = page
        .descending(q, checkin_failures::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let names: std::collections::HashMap<i64, Option<String>> = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(page.finish(
        rows,
        |r| r.id,
        |r| CheckinFailure {
            user_id: r.user_id,
            name: names.get(&r.user_id).cloned().flatten(),
            reason: r.reason,
            method: r.method,
            at: rfc3339(r.at),
        },
    ))
}

/// The caller's check-ins, newest first, undone ones included.
pub async fn mine(
    db: &DatabaseConnection,
    user_id: i64,
    page: &PageQuery,
) -> AppResult<Page<MyCheckin>> {
    let q = checkins::Entity::find().filter(checkins::Column::UserId.eq(user_id));
    let rows = page.descending(q, checkins::Column::Id).all(db).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.activity_id).collect();
    let acts: std::collections::HashMap<i64, activities::Model> = activities::Entity::find()
        .filter(activities::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(page.finish(
        rows,
        |r| r.id,
        |r| {
            let a = acts.get(&r.activity_id);
            MyCheckin {
                id: r.id,
                activity_id: r.activity_id,
                title: a.map(|a| a.title.clone()).unwrap_or_default(),
                starts_at: rfc3339(a.map_or(0, |a| a.starts_at)),
                checked_in_at: rfc3339(r.checked_in_at),
                method: r.method,
                undone_at: r.undone_at.map(rfc3339),
            }
        },
    ))
}
