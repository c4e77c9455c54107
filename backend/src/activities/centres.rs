//! Party-mass centres (党群活动中心): registering one in a region, listing them.
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};

use crate::activities::dto::{CreateCentre, HOMES, check_capacity, one_of};
use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::clock::now_ms;
use crate::db::like_prefix;
use crate::entity::{centres, regions};
use crate::error::{AppError, AppResult};
use crate::orgs::dto::clean_text;
use crate::pagination::PageQuery;

/// A centre checked at the edge.
pub struct NewCentre {
    name: String,
    region_id: i64,
    address: String,
    homes: String,
    capacity: Option<i32>,
}

impl NewCentre {
    /// Checks every field (422 with the field's code).
    pub fn parse(b: CreateCentre) -> AppResult<NewCentre> {
        let name = clean_text(&b.name, 100, "invalid_name", "名称应为1到100个字")?;
        let address = clean_text(&b.address, 200, "invalid_address", "地址应为1到200个字")?;
        if b.homes.is_empty() || b.homes.len() > HOMES.len() {
            return Err(AppError::rule(
                "invalid_homes",
                "homes 应为 party、workers、youth、women 中的一个或几个",
            ));
        }
        let mut seen = Vec::new();
        for h in &b.homes {
            let h = one_of(
                h,
                &HOMES,
                "invalid_homes",
                "homes 只能是 party、workers、youth、women",
            )?;
            if seen.contains(&h) {
                return Err(AppError::rule("invalid_homes", "homes 不能重复"));
            }
            seen.push(h);
        }
        let capacity = b.capacity.map(check_capacity).transpose()?;
        Ok(NewCentre {
            name,
            region_id: b.region_id,
            address,
            homes: seen.join(","),
            capacity,
        })
    }

    /// The region it is for.
    pub fn region_id(&self) -> i64 {
        self.region_id
    }
}

/// Stores a centre and audits the write.
pub async fn create_centre(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: NewCentre,
    ip: Option<String>,
) -> AppResult<centres::Model> {
    let actor = me.id();
    let txn = db.begin().await?;
    let now = now_ms();
    let row = centres::Entity::insert(centres::ActiveModel {
        name: Set(c.name),
        region_id: Set(c.region_id),
        address: Set(c.address),
        homes: Set(c.homes),
        capacity: Set(c.capacity),
        created_by: Set(Some(actor)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(actor),
            action: "centre.create",
            target: format!("centre:{}", row.id),
            region_id: Some(row.region_id),
            ip,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Centres in a region's subtree (all when none is given), by id.
pub async fn list_centres(
    db: &DatabaseConnection,
    region_id: Option<i64>,
    page: &PageQuery,
) -> AppResult<Vec<centres::Model>> {
    let mut q = centres::Entity::find();
    if let Some(rid) = region_id {
        let region = regions::Entity::find_by_id(rid)
            .one(db)
            .await?
            .ok_or_else(|| AppError::rule("invalid_region", "找不到这个区域"))?;
        q = q.filter(
            centres::Column::RegionId.in_subquery(
                Query::select()
                    .column(regions::Column::Id)
                    .from(regions::Entity)
                    .and_where(regions::Column::Path.like(like_prefix(&region.path)))
                    .to_owned(),
            ),
        );
    }
    Ok(page.ascending(q, centres::Column::Id).all(db).await?)
}
