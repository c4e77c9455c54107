//! The centre and activities of `qunjia demo`: a centre in the park shared by
//! the demo orgs, one activity running now, one tomorrow, one last week.
use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::activities::dto::CreateActivity;
use crate::activities::service::{NewActivity, create_activity};
use crate::clock::now_ms;
use crate::entity::{centres, orgs, regions};
use crate::error::{AppError, AppResult};

async fn org_id<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<i64> {
    orgs::Entity::find()
        .filter(orgs::Column::Name.eq(name))
        .one(db)
        .await?
        .map(|o| o.id)
        .ok_or_else(|| AppError::Internal(format!("demo org {name} missing")))
}

fn at(offset: Duration) -> String {
    (Utc::now() + offset).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Creates the demo centre and three activities (after the demo orgs).
pub async fn seed<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    let park = regions::Entity::find()
        .filter(regions::Column::Code.eq("340171"))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal("demo park missing".into()))?;
    let now = now_ms();
    let centre = centres::Entity::insert(centres::ActiveModel {
        name: Set("合肥高新区党群服务中心".into()),
        region_id: Set(park.id),
        address: Set("合肥高新区创新大道2800号创新产业园一期".into()),
        homes: Set("party,workers,youth,women".into()),
        capacity: Set(Some(120)),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    let union = org_id(db, "合肥智联电子科技有限公司工会").await?;
    let league = org_id(db, "合肥高新区团工委").await?;
    let women = org_id(db, "合肥智联电子科技有限公司妇女委员会").await?;
    let plan = [
        (
            union,
            "劳动法律知识讲座",
            "lecture",
            Duration::minutes(-10),
            Duration::hours(2),
            None,
            false,
            "public",
        ),
        (
            league,
            "青年职工羽毛球友谊赛",
            "competition",
            Duration::days(1),
            Duration::days(1) + Duration::hours(3),
            Some(30),
            true,
            "members",
        ),
        (
            women,
            "女职工插花沙龙",
            "culture",
            Duration::days(-7),
            Duration::days(-7) + Duration::hours(2),
            None,
            false,
            "members",
        ),
    ];
    for (org_id, title, kind, start, end, capacity, signup_required, audience) in plan {
        let a = NewActivity::parse(CreateActivity {
            org_id,
            centre_id: Some(centre.id),
            title: title.into(),
            description: None,
            kind: kind.into(),
            starts_at: at(start),
            ends_at: at(end),
            capacity,
            signup_required: Some(signup_required),
            audience: Some(audience.into()),
        })?;
        create_activity(db, None, a, Some(park.id), None).await?;
    }
    Ok(())
}
