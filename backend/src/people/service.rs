//! Profiles: the view of a person, profile rules, export and anonymisation.
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::auth::phone::mask;
use crate::auth::scope::Role;
use crate::clock::now_ms;
use crate::entity::{
    audit_log, idempotency_keys, leaders, memberships, otp_codes, refresh_tokens, roles, units,
    users,
};
use crate::error::{AppError, AppResult};
use crate::people::dto::{PatchMe, User};

/// Builds the API view. `roles` may be passed when already loaded; `full_phone`
/// says whether the viewer may see the number unmasked.
pub async fn user_view<C: ConnectionTrait>(
    db: &C,
    user: &users::Model,
    loaded_roles: Option<&[roles::Model]>,
    full_phone: bool,
) -> AppResult<User> {
    let grants = match loaded_roles {
        Some(r) => r.iter().map(Role::from).collect(),
        None => roles::Entity::find()
            .filter(roles::Column::UserId.eq(user.id))
            .order_by_asc(roles::Column::Id)
            .all(db)
            .await?
            .iter()
            .map(Role::from)
            .collect(),
    };
    let unit_name = match user.unit_id {
        Some(id) => units::Entity::find_by_id(id).one(db).await?.map(|u| u.name),
        None => None,
    };
    Ok(User {
        id: user.id,
        phone: user
            .phone
            .as_deref()
            .map(|p| if full_phone { p.to_owned() } else { mask(p) }),
        name: user.name.clone(),
        gender: user.gender.clone(),
        birth_date: user.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
        unit_id: user.unit_id,
        unit_name,
        platform: user.platform.clone(),
        roles: grants,
    })
}

use crate::text::clean_text;

/// Checks every field first, then writes: a bad field changes nothing.
pub async fn patch_me(
    db: &DatabaseConnection,
    user: &users::Model,
    patch: PatchMe,
) -> AppResult<users::Model> {
    let mut row = user.clone().into_active_model();
    if let Some(name) = patch.name {
        row.name = Set(match name {
            Some(n) => Some(clean_text(&n, 50, "invalid_name", "姓名应为1到50个字")?),
            None => None,
        });
    }
    if let Some(gender) = patch.gender {
        row.gender = Set(match gender.as_deref() {
            None => None,
            Some(g @ ("female" | "male")) => Some(g.to_owned()),
            Some(_) => return Err(AppError::rule("invalid_gender", "性别只能是女或男")),
        });
    }
    if let Some(birth) = patch.birth_date {
        row.birth_date = Set(match birth {
            None => None,
            Some(s) => Some(parse_birth_date(&s)?),
        });
    }
    if let Some(unit) = patch.unit_id {
        if let Some(id) = unit
            && units::Entity::find_by_id(id).one(db).await?.is_none()
        {
            return Err(AppError::rule("invalid_unit", "找不到这个单位"));
        }
        row.unit_id = Set(unit);
    }
    if let Some(platform) = patch.platform {
        row.platform = Set(match platform {
            Some(p) => Some(clean_text(
                &p,
                50,
                "invalid_platform",
                "平台名称应为1到50个字",
            )?),
            None => None,
        });
    }
    row.updated_at = Set(now_ms());
    Ok(row.update(db).await?)
}

/// A birth date: a real day, not in the future, not before 1900.
pub fn parse_birth_date(s: &str) -> AppResult<NaiveDate> {
    let bad = || AppError::rule("invalid_birth_date", "出生日期不正确");
    if s.len() != 10 {
        return Err(bad());
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    let today = chrono::Utc::now().date_naive();
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).ok_or_else(bad)?;
    if d > today || d < earliest {
        return Err(bad());
    }
    Ok(d)
}

/// Everything stored about the person (PIPL right of access).
pub async fn export(
    db: &DatabaseConnection,
    user: &users::Model,
    grants: &[roles::Model],
) -> AppResult<serde_json::Value> {
    let sessions = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(user.id))
        .order_by_asc(refresh_tokens::Column::Id)
        .all(db)
        .await?;
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::ActorUserId.eq(user.id))
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await?;
    let codes = match &user.phone {
        Some(p) => {
            otp_codes::Entity::find()
                .filter(otp_codes::Column::Phone.eq(p.as_str()))
                .order_by_asc(otp_codes::Column::Id)
                .all(db)
                .await?
        }
        None => vec![],
    };
    let view = user_view(db, user, Some(grants), true).await?;
    Ok(serde_json::json!({
        "exported_at": crate::clock::rfc3339(now_ms()),
        "user": view,
        "account": {
            "created_at": crate::clock::rfc3339(user.created_at),
            "updated_at": crate::clock::rfc3339(user.updated_at),
        },
        "roles": grants.iter().map(|g| serde_json::json!({
            "id": g.id, "role": g.role, "scope": g.scope, "granted_at": crate::clock::rfc3339(g.created_at),
        })).collect::<Vec<_>>(),
        "logins": sessions.iter().map(|s| serde_json::json!({
            "family": s.family,
            "created_at": crate::clock::rfc3339(s.created_at),
            "expires_at": crate::clock::rfc3339(s.expires_at),
            "used_at": s.used_at.map(crate::clock::rfc3339),
            "revoked_at": s.revoked_at.map(crate::clock::rfc3339),
        })).collect::<Vec<_>>(),
        "login_codes_requested": codes.iter().map(|c| serde_json::json!({
            "created_at": crate::clock::rfc3339(c.created_at),
            "used_at": c.used_at.map(crate::clock::rfc3339),
            "wrong_attempts": c.attempts,
        })).collect::<Vec<_>>(),
        "actions": audit.iter().map(|a| serde_json::json!({
            "action": a.action, "target": a.target, "at": crate::clock::rfc3339(a.at),
        })).collect::<Vec<_>>(),
    }))
}

/// Anonymises the account: personal fields cleared, logins and roles ended.
/// The row stays as the anonymous placeholder other records point to.
pub async fn anonymise(db: &DatabaseConnection, user: &users::Model) -> AppResult<()> {
    let user = user.clone();
    db.transaction::<_, (), AppError>(|txn| {
        Box::pin(async move {
            let now = now_ms();
            if let Some(p) = &user.phone {
                otp_codes::Entity::delete_many()
                    .filter(otp_codes::Column::Phone.eq(p.as_str()))
                    .exec(txn)
                    .await?;
            }
            refresh_tokens::Entity::update_many()
                .col_expr(refresh_tokens::Column::RevokedAt, now.into())
                .filter(refresh_tokens::Column::UserId.eq(user.id))
                .filter(refresh_tokens::Column::RevokedAt.is_null())
                .exec(txn)
                .await?;
            roles::Entity::delete_many()
                .filter(roles::Column::UserId.eq(user.id))
                .exec(txn)
                .await?;
            // A deleted person is no longer a member or a leader; ended memberships
            // stay as anonymous history.
            memberships::Entity::update_many()
                .col_expr(memberships::Column::Status, "left".into())
                .col_expr(memberships::Column::EndedAt, now.into())
                .filter(memberships::Column::UserId.eq(user.id))
                .filter(memberships::Column::Status.is_in(["pending", "active"]))
                .exec(txn)
                .await?;
            leaders::Entity::delete_many()
                .filter(leaders::Column::UserId.eq(user.id))
                .exec(txn)
                .await?;
            idempotency_keys::Entity::delete_many()
                .filter(idempotency_keys::Column::UserId.eq(user.id))
                .exec(txn)
                .await?;
            let mut row = user.into_active_model();
            row.phone = Set(None);
            row.name = Set(None);
            row.gender = Set(None);
            row.birth_date = Set(None);
            row.unit_id = Set(None);
            row.platform = Set(None);
            row.updated_at = Set(now);
            row.deleted_at = Set(Some(now));
            row.update(txn).await?;
            Ok(())
        })
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_must_be_real_past_days() {
        assert!(parse_birth_date("1995-02-28").is_ok());
        for bad in [
            "1995-02-30",
            "1995-2-3",
            "1899-12-31",
            "2999-01-01",
            "",
            "19950228",
            "1995-02-28T00:00:00Z",
        ] {
            assert!(parse_birth_date(bad).is_err(), "{bad}");
        }
    }
}
