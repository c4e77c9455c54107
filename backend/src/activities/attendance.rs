//! Attendance: who checked in and who signed up but did not come, on screen and
//! as the officer's CSV (audited, with full phones only for those who may see them).
use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::activities::dto::AttendanceItem;
use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::auth::phone::mask;
use crate::auth::scope::{admin_region_ids, path_within};
use crate::clock::rfc3339;
use crate::entity::{activities, checkins, signups, units, users};
use crate::error::AppResult;
use crate::export::Csv;
use crate::pagination::PageQuery;

/// People by id, with whether the viewer may see each one's full phone (an
/// admin whose region covers the person's unit).
async fn people(
    db: &DatabaseConnection,
    me: &AuthUser,
    ids: Vec<i64>,
) -> AppResult<HashMap<i64, (users::Model, bool)>> {
    let found = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let admin_regions: Vec<i64> = admin_region_ids(&me.roles).collect();
    let mut unit_paths: HashMap<i64, String> = HashMap::new();
    if !admin_regions.is_empty() {
        let unit_ids: Vec<i64> = found.iter().filter_map(|u| u.unit_id).collect();
        let us = units::Entity::find()
            .filter(units::Column::Id.is_in(unit_ids))
            .all(db)
            .await?;
        let paths =
            crate::orgs::access::region_paths(db, us.iter().map(|u| u.region_id).collect()).await?;
        for u in us {
            if let Some(p) = paths.get(&u.region_id) {
                unit_paths.insert(u.id, p.clone());
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|u| {
            let full = u
                .unit_id
                .and_then(|id| unit_paths.get(&id))
                .is_some_and(|p| path_within(p, admin_regions.iter().copied()));
            (u.id, (u, full))
        })
        .collect())
}

fn phone_for(u: &users::Model, full: bool) -> Option<String> {
    u.phone
        .as_deref()
        .map(|p| if full { p.to_owned() } else { mask(p) })
}

/// One page of the check-ins of an activity (by id), with people; full phones shown
/// are audited.
pub async fn attendance(
    db: &DatabaseConnection,
    me: &AuthUser,
    activity_id: i64,
    page: &PageQuery,
    ip: Option<String>,
) -> AppResult<Vec<AttendanceItem>> {
    let q = checkins::Entity::find().filter(checkins::Column::ActivityId.eq(activity_id));
    let rows = page.ascending(q, checkins::Column::Id).all(db).await?;
    let who = people(db, me, rows.iter().map(|c| c.user_id).collect()).await?;
    // Only the people of the page are shown: the row fetched past it tells only
    // whether another page follows, and is not read.
    let on_page = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let mut shown: Vec<i64> = rows
        .iter()
        .take(on_page)
        .filter_map(|c| who.get(&c.user_id))
        .filter(|(_, f)| *f)
        .map(|(u, _)| u.id)
        .collect();
    shown.sort_unstable();
    shown.dedup();
    if !shown.is_empty() {
        audit::record(
            db,
            Entry {
                actor: Some(me.id()),
                action: "activity.attendance.read_phones",
                target: format!("activity:{activity_id}"),
                region_id: audit::activity_region(db, activity_id).await?,
                ip,
                detail: Some(serde_json::json!({ "user_ids": shown })),
            },
        )
        .await?;
    }
    Ok(rows
        .into_iter()
        .map(|c| {
            let person = who.get(&c.user_id);
            AttendanceItem {
                id: c.id,
                user_id: c.user_id,
                name: person.and_then(|(u, _)| u.name.clone()),
                phone: person.and_then(|(u, f)| phone_for(u, *f)),
                method: c.method,
                checked_in_at: rfc3339(c.checked_in_at),
                scanned_at: c.scanned_at.map(rfc3339),
                undone_at: c.undone_at.map(rfc3339),
                undo_reason: c.undo_reason,
            }
        })
        .collect())
}

/// The attendance sheet: every check-in, then every live sign-up who did not come.
pub async fn attendance_csv(
    db: &DatabaseConnection,
    me: &AuthUser,
    a: &activities::Model,
    ip: Option<String>,
) -> AppResult<Vec<u8>> {
    let checks = checkins::Entity::find()
        .filter(checkins::Column::ActivityId.eq(a.id))
        .order_by_asc(checkins::Column::Id)
        .all(db)
        .await?;
    let signed = signups::Entity::find()
        .filter(signups::Column::ActivityId.eq(a.id))
        .filter(signups::Column::Status.eq("active"))
        .order_by_asc(signups::Column::Id)
        .all(db)
        .await?;
    let mut ids: Vec<i64> = checks.iter().map(|c| c.user_id).collect();
    ids.extend(signed.iter().map(|s| s.user_id));
    let who = people(db, me, ids).await?;
    let signed_ids: std::collections::HashSet<i64> = signed.iter().map(|s| s.user_id).collect();
    let standing: std::collections::HashSet<i64> = checks
        .iter()
        .filter(|c| c.undone_at.is_none())
        .map(|c| c.user_id)
        .collect();
    let mut w = Csv::new(&[
        "姓名",
        "手机号",
        "是否报名",
        "签到状态",
        "签到方式",
        "签到时间",
        "扫码时间",
        "撤销时间",
        "撤销原因",
    ])?;
    let method_zh = |m: &str| match m {
        "qr" => "扫码",
        "short_code" => "签到码",
        "manual" => "人工",
        _ => "其他",
    };
    for c in &checks {
        let (name, phone) = who
            .get(&c.user_id)
            .map(|(u, f)| {
                (
                    u.name.clone().unwrap_or_default(),
                    phone_for(u, *f).unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        w.line([
            name.as_str(),
            phone.as_str(),
            if signed_ids.contains(&c.user_id) {
                "是"
            } else {
                "否"
            },
            if c.undone_at.is_some() {
                "已撤销"
            } else {
                "已签到"
            },
            method_zh(&c.method),
            &rfc3339(c.checked_in_at),
            &c.scanned_at.map(rfc3339).unwrap_or_default(),
            &c.undone_at.map(rfc3339).unwrap_or_default(),
            c.undo_reason.as_deref().unwrap_or_default(),
        ])?;
    }
    for s in signed.iter().filter(|s| !standing.contains(&s.user_id)) {
        if checks.iter().any(|c| c.user_id == s.user_id) {
            continue; // Undone check-ins are already listed above.
        }
        let (name, phone) = who
            .get(&s.user_id)
            .map(|(u, f)| {
                (
                    u.name.clone().unwrap_or_default(),
                    phone_for(u, *f).unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        w.line([
            name.as_str(),
            phone.as_str(),
            "是",
            "未签到",
            "",
            "",
            "",
            "",
            "",
        ])?;
    }
    audit::record(
        db,
        Entry {
            actor: Some(me.id()),
            action: "activity.attendance.export",
            target: format!("activity:{}", a.id),
            region_id: audit::org_region(db, a.org_id).await?,
            ip,
            detail: None,
        },
    )
    .await?;
    w.finish()
}
