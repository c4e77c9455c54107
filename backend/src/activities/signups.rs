//! Sign-ups: taking a place in an activity (within its capacity), cancelling it,
//! and a person's own list.
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
};

use crate::activities::dto::Signup;
use crate::clock::now_ms;
use crate::entity::{activities, signups};
use crate::error::{AppError, AppResult, on_unique};
use crate::pagination::PageQuery;

/// Signs a person up inside the caller's transaction: the counter goes up only
/// while below capacity (0 rows: full or closed), then the row is inserted (a
/// live twin: `already_signed_up`, and the transaction rolls the counter back).
pub async fn sign_up(
    txn: &DatabaseTransaction,
    activity_id: i64,
    user_id: i64,
) -> AppResult<Signup> {
    let now = now_ms();
    let n = activities::Entity::update_many()
        .col_expr(
            activities::Column::SignedUp,
            Expr::col(activities::Column::SignedUp).add(1),
        )
        .filter(activities::Column::Id.eq(activity_id))
        .filter(activities::Column::Status.eq("scheduled"))
        .filter(activities::Column::EndsAt.gt(now))
        .filter(
            Condition::any()
                .add(activities::Column::Capacity.is_null())
                .add(
                    Expr::col(activities::Column::SignedUp)
                        .lt(Expr::col(activities::Column::Capacity)),
                ),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if n == 0 {
        let live = signups::Entity::find()
            .filter(signups::Column::ActivityId.eq(activity_id))
            .filter(signups::Column::UserId.eq(user_id))
            .filter(signups::Column::Status.eq("active"))
            .one(txn)
            .await?;
        if live.is_some() {
            return Err(already());
        }
        let a = activities::Entity::find_by_id(activity_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if a.status != "scheduled" || a.ends_at <= now {
            return Err(AppError::Conflict("not_open", "活动已取消或已结束".into()));
        }
        return Err(AppError::Conflict("full", "活动名额已满".into()));
    }
    let row = signups::Entity::insert(signups::ActiveModel {
        activity_id: Set(activity_id),
        user_id: Set(user_id),
        status: Set("active".into()),
        created_at: Set(now),
        cancelled_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await
    .map_err(|e| on_unique(e, "already_signed_up", "你已报名该活动"))?;
    Ok(Signup {
        id: row.id,
        activity_id,
        user_id,
        status: row.status,
    })
}

fn already() -> AppError {
    AppError::Conflict("already_signed_up", "你已报名该活动".into())
}

/// Cancels the caller's live sign-up and gives the place back, in one transaction.
pub async fn cancel_sign_up(
    db: &DatabaseConnection,
    activity_id: i64,
    user_id: i64,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let n = signups::Entity::update_many()
        .col_expr(signups::Column::Status, Expr::value("cancelled"))
        .col_expr(signups::Column::CancelledAt, Expr::value(now_ms()))
        .filter(signups::Column::ActivityId.eq(activity_id))
        .filter(signups::Column::UserId.eq(user_id))
        .filter(signups::Column::Status.eq("active"))
        .exec(&txn)
        .await?
        .rows_affected;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    activities::Entity::update_many()
        .col_expr(
            activities::Column::SignedUp,
            Expr::col(activities::Column::SignedUp).sub(1),
        )
        .filter(activities::Column::Id.eq(activity_id))
        .filter(activities::Column::SignedUp.gt(0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's sign-ups, newest first by id, with their activities.
pub async fn my_signups(
    db: &DatabaseConnection,
    user_id: i64,
    page: &PageQuery,
) -> AppResult<Vec<(signups::Model, Option<activities::Model>)>> {
    let q = signups::Entity::find().filter(signups::Column::UserId.eq(user_id));
    let rows = page.descending(q, signups::Column::Id).all(db).await?;
    let ids: Vec<i64> = rows.iter().map(|s| s.activity_id).collect();
    let acts: HashMap<i64, activities::Model> = activities::Entity::find()
        .filter(activities::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(rows
        .into_iter()
        .map(|s| {
            let a = acts.get(&s.activity_id).cloned();
            (s, a)
        })
        .collect())
}
