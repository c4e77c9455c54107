//! One-time codes, login, refresh-token rotation and logout.
use hmac::Mac;
use rand::Rng;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait, TryInsertResult,
};

use crate::auth::jwt::{ACCESS_TTL_SECS, Claims, JwtKeys, TokenType};
use crate::auth::phone::Phone;
use crate::clock::now_ms;
use crate::entity::{otp_codes, refresh_tokens, users};
use crate::error::{AppError, AppResult};
use crate::ratelimit;
use crate::state::AppState;

/// A code lives five minutes.
pub const CODE_TTL_SECS: i64 = 300;
/// One code per phone per minute.
pub const RESEND_SECS: i64 = 60;
/// Codes per phone per day.
pub const DAILY_CODES: u32 = 10;
/// Wrong tries before a code dies.
pub const MAX_ATTEMPTS: i32 = 5;

fn hash_code(key: &[u8], phone: &str, code: &str) -> String {
    let mut mac = crate::crypto::hmac_sha256(key);
    mac.update(phone.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn rate_limited(secs: u64) -> AppError {
    AppError::TooMany("rate_limited", "操作太频繁，请稍后再试", secs)
}

/// Issues a code: checks the limits, stores its hash, sends it. A failed send
/// leaves no usable code and does not use up the phone's minute.
pub async fn request_otp(
    state: &AppState,
    phone: &Phone,
    ip: Option<std::net::IpAddr>,
) -> AppResult<()> {
    let db = &state.db;
    if let Some(ip) = ip {
        let key = format!("otp:ip:{ip}");
        if let Some(secs) =
            ratelimit::hit(db, &key, 3600, state.settings.otp_ip_limit_per_hour).await?
        {
            return Err(rate_limited(secs));
        }
    }
    let minute_key = format!("otp:phone:{}:min", phone.as_str());
    if let Some(secs) = ratelimit::hit(db, &minute_key, RESEND_SECS, 1).await? {
        return Err(rate_limited(secs));
    }
    let day_key = format!("otp:phone:{}:day", phone.as_str());
    if let Some(secs) = ratelimit::hit(db, &day_key, 24 * 3600, DAILY_CODES).await? {
        return Err(rate_limited(secs));
    }

    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let now = now_ms();
    let id = db
        .transaction::<_, i64, AppError>(|txn| {
            let phone = phone.as_str().to_owned();
            let hash = hash_code(state.keys.otp_key(), &phone, &code);
            Box::pin(async move {
                // Only the newest code works.
                otp_codes::Entity::update_many()
                    .col_expr(otp_codes::Column::UsedAt, now.into())
                    .filter(otp_codes::Column::Phone.eq(&phone))
                    .filter(otp_codes::Column::UsedAt.is_null())
                    .exec(txn)
                    .await?;
                let row = otp_codes::ActiveModel {
                    phone: Set(phone),
                    code_hash: Set(hash),
                    created_at: Set(now),
                    expires_at: Set(now + CODE_TTL_SECS * 1000),
                    attempts: Set(0),
                    ..Default::default()
                };
                Ok(otp_codes::Entity::insert(row)
                    .exec(txn)
                    .await?
                    .last_insert_id)
            })
        })
        .await?;

    if let Err(reason) = state.sms.send_code(phone.as_str(), &code).await {
        tracing::warn!(%reason, "sms delivery failed");
        otp_codes::Entity::update_many()
            .col_expr(otp_codes::Column::UsedAt, now_ms().into())
            .filter(otp_codes::Column::Id.eq(id))
            .exec(db)
            .await?;
        ratelimit::refund(db, &minute_key).await?;
        ratelimit::refund(db, &day_key).await?;
        return Err(AppError::Unavailable(
            "sms_unavailable",
            "短信发送失败，请稍后再试",
        ));
    }
    Ok(())
}

fn invalid_code() -> AppError {
    AppError::Unauthorized("invalid_code", "验证码不正确或已过期")
}

/// Checks a code and consumes it. Every wrong try counts; after five the code is dead.
pub async fn verify_code(state: &AppState, phone: &Phone, code: &str) -> AppResult<()> {
    let db = &state.db;
    let now = now_ms();
    let Some(row) = otp_codes::Entity::find()
        .filter(otp_codes::Column::Phone.eq(phone.as_str()))
        .filter(otp_codes::Column::UsedAt.is_null())
        .filter(otp_codes::Column::ExpiresAt.gt(now))
        .order_by_desc(otp_codes::Column::Id)
        .one(db)
        .await?
    else {
        return Err(invalid_code());
    };
    let locked = || AppError::TooMany("code_locked", "错误次数过多，请重新获取验证码", 0);
    if row.attempts >= MAX_ATTEMPTS {
        return Err(locked());
    }
    let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let expected = hash_code(state.keys.otp_key(), phone.as_str(), code);
    if !well_formed || !constant_time_eq(expected.as_bytes(), row.code_hash.as_bytes()) {
        // Conditional increment: concurrent wrong guesses cannot exceed the limit.
        let res = otp_codes::Entity::update_many()
            .col_expr(
                otp_codes::Column::Attempts,
                sea_orm::sea_query::Expr::col(otp_codes::Column::Attempts).add(1),
            )
            .filter(otp_codes::Column::Id.eq(row.id))
            .filter(otp_codes::Column::Attempts.lt(MAX_ATTEMPTS))
            .exec(db)
            .await?;
        return Err(if res.rows_affected == 0 {
            locked()
        } else {
            invalid_code()
        });
    }
    // Conditional consume: two logins racing with one code, one wins.
    let res = otp_codes::Entity::update_many()
        .col_expr(otp_codes::Column::UsedAt, now.into())
        .filter(otp_codes::Column::Id.eq(row.id))
        .filter(otp_codes::Column::UsedAt.is_null())
        .filter(otp_codes::Column::Attempts.lt(MAX_ATTEMPTS))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(invalid_code());
    }
    Ok(())
}

/// The live account of a phone, created when there is none; `true` when created.
pub async fn find_or_create_user<C: ConnectionTrait>(
    db: &C,
    phone: &Phone,
) -> AppResult<(users::Model, bool)> {
    let find = || async {
        users::Entity::find()
            .filter(users::Column::Phone.eq(phone.as_str()))
            .filter(users::Column::DeletedAt.is_null())
            .one(db)
            .await
    };
    if let Some(u) = find().await? {
        return Ok((u, false));
    }
    let now = now_ms();
    let row = users::ActiveModel {
        phone: Set(Some(phone.as_str().to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    // Two first logins at once: the loser's insert does nothing and it reads the winner's row.
    let inserted = users::Entity::insert(row)
        .on_conflict_do_nothing_on([users::Column::Phone])
        .exec_without_returning(db)
        .await?;
    let inserted = matches!(inserted, TryInsertResult::Inserted(n) if n > 0);
    let user = find()
        .await?
        .ok_or_else(|| AppError::Internal("user vanished after insert".into()))?;
    Ok((user, inserted))
}

/// A fresh access token and a refresh token stored under `family`.
pub async fn issue_pair<C: ConnectionTrait>(
    db: &C,
    keys: &JwtKeys,
    user_id: i64,
    family: &str,
) -> AppResult<(String, String)> {
    let (access, _) = keys.issue(
        TokenType::Access,
        user_id,
        uuid::Uuid::new_v4().to_string(),
        None,
    );
    let jti = uuid::Uuid::new_v4().to_string();
    let (refresh, claims) = keys.issue(
        TokenType::Refresh,
        user_id,
        jti.clone(),
        Some(family.to_owned()),
    );
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        jti: Set(jti),
        family: Set(family.to_owned()),
        user_id: Set(user_id),
        created_at: Set(claims.iat * 1000),
        expires_at: Set(claims.exp * 1000),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok((access, refresh))
}

/// Seconds an access token lives, for `expires_in`.
pub fn access_ttl() -> i64 {
    ACCESS_TTL_SECS
}

fn session_ended() -> AppError {
    AppError::Unauthorized("unauthorized", "登录已失效，请重新登录")
}

/// Revokes every token of a login.
///
/// A rotation in flight holds the lock of the token it spends, and the token it
/// issues is invisible to an UPDATE whose snapshot predates it. So the update
/// repeats until it finds nothing left: each pass waits for the rotations the
/// previous one met, then sees what they issued.
pub async fn revoke_family<C: ConnectionTrait>(db: &C, family: &str) -> AppResult<()> {
    for _ in 0..5 {
        let res = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, now_ms().into())
            .filter(refresh_tokens::Column::Family.eq(family))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        if res.rows_affected == 0 {
            break;
        }
    }
    Ok(())
}

/// Exchanges a refresh token for a new pair. A token presented twice means it
/// was stolen or replayed: the whole login is revoked.
pub async fn rotate(state: &AppState, token: &str) -> AppResult<(users::Model, String, String)> {
    let db: &DatabaseConnection = &state.db;
    let claims: Claims = state
        .keys
        .verify(token, TokenType::Refresh)
        .ok_or_else(session_ended)?;
    let family = claims.fam.clone().ok_or_else(session_ended)?;
    let now = now_ms();
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::Jti.eq(&claims.jti))
        .one(db)
        .await?
        .ok_or_else(session_ended)?;
    if row.revoked_at.is_some() || row.expires_at <= now || row.family != family {
        return Err(session_ended());
    }
    // Claim and issue in one transaction: a concurrent replay waits for the claimed
    // row, so the revocation it triggers also reaches the token issued here.
    let keys = state.keys.clone();
    let (token_id, user_id, fam) = (row.id, row.user_id, family.clone());
    let issued = db
        .transaction::<_, Option<(users::Model, String, String)>, AppError>(|txn| {
            Box::pin(async move {
                let claimed = refresh_tokens::Entity::update_many()
                    .col_expr(refresh_tokens::Column::UsedAt, now.into())
                    .filter(refresh_tokens::Column::Id.eq(token_id))
                    .filter(refresh_tokens::Column::UsedAt.is_null())
                    .filter(refresh_tokens::Column::RevokedAt.is_null())
                    .exec(txn)
                    .await?;
                if claimed.rows_affected == 0 {
                    return Ok(None);
                }
                let user = users::Entity::find_by_id(user_id)
                    .filter(users::Column::DeletedAt.is_null())
                    .one(txn)
                    .await?
                    .ok_or_else(session_ended)?;
                let (access, refresh) = issue_pair(txn, &keys, user.id, &fam).await?;
                Ok(Some((user, access, refresh)))
            })
        })
        .await?;
    match issued {
        Some(pair) => Ok(pair),
        None => {
            tracing::warn!(
                user_id = row.user_id,
                "refresh token reused; revoking the login"
            );
            revoke_family(db, &family).await?;
            Err(session_ended())
        }
    }
}

/// Ends the login the refresh token belongs to (idempotent for a valid token).
pub async fn logout(state: &AppState, token: &str) -> AppResult<()> {
    let claims = state
        .keys
        .verify(token, TokenType::Refresh)
        .ok_or_else(session_ended)?;
    let family = claims.fam.ok_or_else(session_ended)?;
    revoke_family(&state.db, &family).await
}
