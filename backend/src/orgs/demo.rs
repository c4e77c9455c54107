//! The organizations of `qunjia demo`: one of each form around the demo park,
//! with the demo worker an active member of two.
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::clock::now_ms;
use crate::entity::{memberships, regions, units};
use crate::error::{AppError, AppResult};
use crate::orgs::dto::{JoinPolicy, OrgForm, OrgType};
use crate::orgs::service::{NewOrg, insert};

async fn unit_id<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<i64> {
    units::Entity::find()
        .filter(units::Column::Name.eq(name))
        .one(db)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| AppError::Internal(format!("demo unit {name} missing")))
}

async fn region_id<C: ConnectionTrait>(db: &C, code: &str) -> AppResult<i64> {
    regions::Entity::find()
        .filter(regions::Column::Code.eq(code))
        .one(db)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| AppError::Internal(format!("demo region {code} missing")))
}

/// Creates the demo orgs (after the demo regions and units) and makes `worker`
/// an active member of the 智联 union and women's committee. Returns how many orgs.
pub async fn seed<C: ConnectionTrait>(db: &C, worker: i64) -> AppResult<usize> {
    let hefei = region_id(db, "340100").await?;
    let park = region_id(db, "340171").await?;
    let shushan = region_id(db, "340104").await?;
    let zhilian = unit_id(db, "合肥智联电子科技有限公司").await?;
    let yunfan = unit_id(db, "安徽云帆软件有限公司").await?;
    let hengda = unit_id(db, "合肥恒达精密制造有限公司").await?;
    let platform = unit_id(db, "合肥小蜂快送网络科技有限公司").await?;
    let breakfast = unit_id(db, "三里庵便民早餐店").await?;
    use JoinPolicy::{Approval, Open};
    use OrgForm::{Joint, Online, Regional, Single};
    use OrgType::{League, Union, Women};
    let plan = [
        (
            "合肥智联电子科技有限公司工会",
            Union,
            Single,
            park,
            vec![zhilian],
            Approval,
        ),
        (
            "合肥市小微企业联合工会",
            Union,
            Joint,
            hefei,
            vec![yunfan, breakfast],
            Approval,
        ),
        (
            "合肥高新区团工委",
            League,
            Regional,
            park,
            vec![zhilian, yunfan, hengda],
            Open,
        ),
        (
            "小蜂快送网上工会",
            Union,
            Online,
            shushan,
            vec![platform],
            Open,
        ),
        (
            "合肥智联电子科技有限公司妇女委员会",
            Women,
            Single,
            park,
            vec![zhilian],
            Open,
        ),
    ];
    let mut joined = vec![];
    let n = plan.len();
    for (i, (name, org_type, form, region_id, unit_ids, join_policy)) in
        plan.into_iter().enumerate()
    {
        let org = insert(
            db,
            NewOrg {
                name: name.into(),
                org_type,
                form,
                region_id,
                unit_ids,
                join_policy,
            },
            None,
            None,
        )
        .await?;
        if i == 0 || i == 4 {
            joined.push(org.id);
        }
    }
    let now = now_ms();
    for org_id in joined {
        memberships::Entity::insert(memberships::ActiveModel {
            org_id: Set(org_id),
            user_id: Set(worker),
            status: Set("active".into()),
            requested_at: Set(now),
            decided_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(db)
        .await?;
    }
    Ok(n)
}
