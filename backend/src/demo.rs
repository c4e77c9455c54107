//! `qunjia demo`: a small, realistic data set on a fresh database — a district of
//! Hefei with a national high-tech park, its enterprises, a platform, an admin and
//! a worker — its organizations, activities, services, assistance cases and a
//! holiday campaign, and how to log in as each.
mod cases;

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::auth::phone::Phone;
use crate::auth::roles::insert_role;
use crate::auth::scope::{RoleName, Scope};
use crate::auth::service::find_or_create_user;
use crate::clock::now_ms;
use crate::config::Settings;
use crate::crypto::DataKey;
use crate::entity::{regions, units, users};
use crate::error::AppError;
use crate::regions::service::{NewRegion, insert as insert_region};
use crate::units::uscc::check_char;

/// Phone of the demo province admin.
pub const ADMIN_PHONE: &str = "13800000000";
/// Phone of the demo worker.
pub const WORKER_PHONE: &str = "13900000001";

fn uscc(seq: u32) -> String {
    let body = format!("91340100MA2N{seq:05}");
    #[expect(
        clippy::expect_used,
        reason = "the demo's codes use the allowed alphabet"
    )]
    let c = check_char(&body).expect("demo codes use the allowed alphabet");
    format!("{body}{c}")
}

/// Inserts the demo data unless it is already there.
pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let key = DataKey::from_settings(settings)?;
    let db = crate::db::connect(settings).await?;
    if regions::Entity::find()
        .filter(regions::Column::Code.eq("340104"))
        .one(&db)
        .await?
        .is_some()
    {
        if cases::seeded(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            println!("demo data is already in this database.");
        } else {
            // A demo made before services and cases existed: add only those.
            db.transaction::<_, (), AppError>(|txn| {
                Box::pin(async move {
                    let worker = users::Entity::find()
                        .filter(users::Column::Phone.eq(WORKER_PHONE))
                        .one(txn)
                        .await?
                        .ok_or_else(|| AppError::Internal("demo worker missing".into()))?;
                    cases::seed(txn, &key, worker.id).await
                })
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}", AppError::from(e)))?;
            println!(
                "demo data is already in this database; added its services, 6 cases and a spring-festival campaign."
            );
        }
        print_logins(settings);
        return Ok(());
    }
    db.transaction::<_, (), AppError>(|txn| {
        Box::pin(async move {
            let hefei = regions::Entity::find()
                .filter(regions::Column::Code.eq("340100"))
                .one(txn)
                .await?
                .ok_or_else(|| AppError::Internal("seeded city 340100 missing".into()))?;
            let province_id = hefei.parent_id.unwrap_or(hefei.id);
            let shushan = insert_region(
                txn,
                &hefei,
                NewRegion::parse(Some("340104"), "蜀山区", "county", None)?,
            )
            .await?;
            let town = insert_region(
                txn,
                &shushan,
                NewRegion::parse(Some("340104002"), "三里庵街道", "township", None)?,
            )
            .await?;
            let park = insert_region(
                txn,
                &hefei,
                NewRegion::parse(
                    Some("340171"),
                    "合肥高新技术产业开发区",
                    "park",
                    Some("national"),
                )?,
            )
            .await?;
            let _building = insert_region(
                txn,
                &town,
                NewRegion::parse(Some("340104002500"), "创新大厦", "building", None)?,
            )
            .await?;
            let now = now_ms();
            let demo_units = [
                (
                    "合肥智联电子科技有限公司",
                    "enterprise",
                    park.id,
                    180,
                    true,
                    false,
                    "电子信息",
                ),
                (
                    "安徽云帆软件有限公司",
                    "enterprise",
                    park.id,
                    45,
                    false,
                    false,
                    "软件和信息技术服务",
                ),
                (
                    "合肥恒达精密制造有限公司",
                    "enterprise",
                    park.id,
                    320,
                    true,
                    true,
                    "装备制造",
                ),
                (
                    "合肥小蜂快送网络科技有限公司",
                    "platform",
                    shushan.id,
                    60,
                    false,
                    false,
                    "即时配送",
                ),
                (
                    "蜀山区阳光康复医院",
                    "social_org",
                    town.id,
                    85,
                    false,
                    false,
                    "医疗卫生",
                ),
                (
                    "合肥市软件行业协会",
                    "association",
                    shushan.id,
                    12,
                    false,
                    false,
                    "软件",
                ),
                (
                    "三里庵便民早餐店",
                    "enterprise",
                    town.id,
                    6,
                    false,
                    false,
                    "餐饮",
                ),
            ];
            let mut first_unit = None;
            for (i, (name, kind, region_id, employees, above, party, industry)) in
                demo_units.into_iter().enumerate()
            {
                let res = units::Entity::insert(units::ActiveModel {
                    name: Set(name.into()),
                    uscc: Set(uscc(i as u32 + 1)),
                    kind: Set(kind.into()),
                    region_id: Set(region_id),
                    employee_count: Set(employees),
                    above_scale: Set(above),
                    has_party_org: Set(party),
                    industry: Set(Some(industry.into())),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
                first_unit.get_or_insert(res.last_insert_id);
            }
            let admin = Phone::parse(ADMIN_PHONE)?;
            let (admin_user, _) = find_or_create_user(txn, &admin).await?;
            users::Entity::update_many()
                .col_expr(users::Column::Name, "王组织".into())
                .filter(users::Column::Id.eq(admin_user.id))
                .exec(txn)
                .await?;
            insert_role(
                txn,
                admin_user.id,
                RoleName::Admin,
                Scope {
                    kind: "region",
                    id: province_id,
                },
                None,
            )
            .await?;
            let worker = Phone::parse(WORKER_PHONE)?;
            let (worker_user, _) = find_or_create_user(txn, &worker).await?;
            users::Entity::update_many()
                .col_expr(users::Column::Name, "李小梅".into())
                .col_expr(users::Column::Gender, "female".into())
                .col_expr(
                    users::Column::BirthDate,
                    chrono::NaiveDate::from_ymd_opt(1998, 3, 8).into(),
                )
                .col_expr(users::Column::UnitId, first_unit.into())
                .filter(users::Column::Id.eq(worker_user.id))
                .exec(txn)
                .await?;
            crate::orgs::demo::seed(txn, worker_user.id).await?;
            crate::activities::demo::seed(txn).await?;
            cases::seed(txn, &key, worker_user.id).await?;
            Ok(())
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("{}", AppError::from(e)))?;
    println!(
        "demo data created: 蜀山区, 三里庵街道, 合肥高新技术产业开发区 (national park), 7 units, 5 organizations, a centre, 3 activities, 7 services, 6 assistance cases and a spring-festival campaign."
    );
    print_logins(settings);
    Ok(())
}

fn print_logins(settings: &Settings) {
    println!(
        "start the server (cargo run --release) and open {}",
        settings.public_url
    );
    println!("  worker 李小梅:          phone {WORKER_PHONE}");
    println!("  worker 张建国:          phone {}", cases::SECOND_PHONE);
    println!(
        "  union officer 陈建华:   phone {} (handles the cases of the 智联 union)",
        cases::OFFICER_PHONE
    );
    println!("  province admin 王组织:  phone {ADMIN_PHONE}");
    println!(
        "ask for a code in the app; with QUNJIA_SMS_PROVIDER=log it appears in the server log as `sms to=<phone> code=<code>`."
    );
}
