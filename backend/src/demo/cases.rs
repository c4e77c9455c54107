//! The services, cases and holiday campaign of `qunjia demo`: a catalogue for the
//! demo orgs, an officer of the 智联 union, and cases of the demo worker and a
//! second worker in every state an officer meets, their text sealed with the
//! data key like the API would.
use chrono::Duration;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::phone::Phone;
use crate::auth::roles::insert_role;
use crate::auth::scope::{RoleName, Scope};
use crate::auth::service::find_or_create_user;
use crate::clock::now_ms;
use crate::crypto::DataKey;
use crate::entity::{
    campaign_visits, campaigns, case_events, case_messages, cases, memberships, orgs, services,
    users,
};
use crate::error::{AppError, AppResult};

/// Phone of the demo officer (org_admin of the 智联 union).
pub const OFFICER_PHONE: &str = "13800000010";
/// Phone of the second demo worker.
pub const SECOND_PHONE: &str = "13900000002";

/// Title of the first demo service: its presence means this part was seeded.
pub const MARKER_SERVICE: &str = "困难职工帮扶";

async fn org_id<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<i64> {
    orgs::Entity::find()
        .filter(orgs::Column::Name.eq(name))
        .one(db)
        .await?
        .map(|o| o.id)
        .ok_or_else(|| AppError::Internal(format!("demo org {name} missing")))
}

/// Whether the demo services are already in the database.
pub async fn seeded<C: ConnectionTrait>(db: &C) -> AppResult<bool> {
    Ok(services::Entity::find()
        .filter(services::Column::Title.eq(MARKER_SERVICE))
        .one(db)
        .await?
        .is_some())
}

/// A person by phone, created and named if new.
async fn person<C: ConnectionTrait>(db: &C, phone: &str, name: &str) -> AppResult<i64> {
    let (user, _) = find_or_create_user(db, &Phone::parse(phone)?).await?;
    if user.name.is_none() {
        users::Entity::update_many()
            .col_expr(users::Column::Name, name.into())
            .filter(users::Column::Id.eq(user.id))
            .exec(db)
            .await?;
    }
    Ok(user.id)
}

/// Milliseconds `days` (and `hours`) ago.
fn ago(days: i64, hours: i64) -> i64 {
    now_ms() - (Duration::days(days) + Duration::hours(hours)).num_milliseconds()
}

/// A date `days` ago, Beijing time.
fn date_ago(days: i64) -> String {
    (crate::clock::today_shanghai() - Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

struct Service<'a> {
    org_id: i64,
    kind: &'a str,
    title: &'a str,
    description: &'a str,
    members_only: bool,
}

async fn service<C: ConnectionTrait>(db: &C, s: Service<'_>, created_at: i64) -> AppResult<i64> {
    Ok(services::Entity::insert(services::ActiveModel {
        org_id: Set(s.org_id),
        kind: Set(s.kind.into()),
        title: Set(s.title.into()),
        description: Set(Some(s.description.into())),
        members_only: Set(s.members_only),
        active: Set(true),
        created_by: Set(None),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id)
}

/// One step of a case's history: (to, by, days ago, hours ago, note).
type Step<'a> = (&'a str, i64, i64, i64, Option<&'a str>);

/// A case as the demo tells it; its status is the last step's.
struct Case<'a> {
    service_id: i64,
    org_id: i64,
    kind: &'a str,
    applicant: i64,
    description: &'a str,
    details: Option<serde_json::Value>,
    requested: Option<i64>,
    granted: Option<i64>,
    class: Option<&'a str>,
    consent: bool,
    steps: Vec<Step<'a>>,
    /// (paid days ago, method, amount, by).
    payment: Option<(i64, &'a str, i64, i64)>,
    /// (author, hours after the first step, body).
    messages: Vec<(i64, i64, &'a str)>,
}

async fn case<C: ConnectionTrait>(db: &C, key: &DataKey, c: Case<'_>) -> AppResult<i64> {
    let (_, _, first_days, first_hours, _) = c.steps[0];
    let created = ago(first_days, first_hours);
    let Some(&(status, _, last_days, last_hours, _)) = c.steps.last() else {
        return Err(AppError::Internal("a demo case without steps".into()));
    };
    let updated = ago(last_days, last_hours);
    let resolved_at = c
        .steps
        .iter()
        .find(|s| s.0 == "resolved")
        .map(|s| ago(s.2, s.3));
    let id = cases::Entity::insert(cases::ActiveModel {
        service_id: Set(c.service_id),
        org_id: Set(c.org_id),
        kind: Set(c.kind.into()),
        applicant_id: Set(c.applicant),
        status: Set(status.into()),
        description_enc: Set(key.seal(c.description)),
        details_enc: Set(c.details.map(|d| key.seal(&d.to_string()))),
        amount_requested_fen: Set(c.requested),
        amount_granted_fen: Set(c.granted),
        hardship_class: Set(c.class.map(Into::into)),
        consent_version: Set(c
            .consent
            .then(|| crate::cases::dto::CONSENT_VERSION.to_owned())),
        consent_at: Set(c.consent.then_some(created)),
        paid_on: Set(c.payment.map(|p| date_ago(p.0))),
        paid_method: Set(c.payment.map(|p| p.1.to_owned())),
        paid_amount_fen: Set(c.payment.map(|p| p.2)),
        paid_by: Set(c.payment.map(|p| p.3)),
        paid_recorded_at: Set(c.payment.map(|p| ago(p.0, 0))),
        created_at: Set(created),
        updated_at: Set(updated),
        resolved_at: Set(resolved_at),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    let mut from: Option<&str> = None;
    for (to, by, days, hours, note) in c.steps {
        case_events::Entity::insert(case_events::ActiveModel {
            case_id: Set(id),
            from_status: Set(from.map(Into::into)),
            to_status: Set(to.into()),
            actor_id: Set(Some(by)),
            note_enc: Set(key.seal_opt(note)),
            at: Set(ago(days, hours)),
            ..Default::default()
        })
        .exec(db)
        .await?;
        from = Some(to);
    }
    for (author, after_hours, body) in c.messages {
        case_messages::Entity::insert(case_messages::ActiveModel {
            case_id: Set(id),
            author_id: Set(author),
            body_enc: Set(key.seal(body)),
            created_at: Set(created + Duration::hours(after_hours).num_milliseconds()),
            ..Default::default()
        })
        .exec(db)
        .await?;
    }
    Ok(id)
}

/// Creates the services, the officer, the second worker, six cases (oldest
/// first, so ids follow time) and one spring-festival campaign (after the demo
/// orgs). `worker` is 李小梅.
pub async fn seed<C: ConnectionTrait>(db: &C, key: &DataKey, worker: i64) -> AppResult<()> {
    let union = org_id(db, "合肥智联电子科技有限公司工会").await?;
    let league = org_id(db, "合肥高新区团工委").await?;
    let online = org_id(db, "小蜂快送网上工会").await?;
    let women = org_id(db, "合肥智联电子科技有限公司妇女委员会").await?;
    let since = ago(40, 0);

    let hardship = service(
        db,
        Service {
            org_id: union,
            kind: "hardship",
            title: MARKER_SERVICE,
            description: "因病、因灾、意外或家庭变故造成生活困难的会员职工可申请帮扶，工会核实后发放帮扶金。",
            members_only: true,
        },
        since,
    )
    .await?;
    let legal = service(
        db,
        Service {
            org_id: union,
            kind: "legal_aid",
            title: "职工法律援助",
            description: "劳动合同、工资拖欠、工伤认定等劳动争议，由工会律师免费咨询和代理。",
            members_only: false,
        },
        since,
    )
    .await?;
    let counseling = service(
        db,
        Service {
            org_id: union,
            kind: "counseling",
            title: "职工心理咨询",
            description: "专业心理咨询师一对一倾听与疏导，内容严格保密。",
            members_only: false,
        },
        since,
    )
    .await?;
    service(
        db,
        Service {
            org_id: union,
            kind: "employment",
            title: "技能培训与岗位推荐",
            description: "电工、焊工等职业技能培训报名，以及园区企业岗位推荐。",
            members_only: false,
        },
        since,
    )
    .await?;
    service(
        db,
        Service {
            org_id: league,
            kind: "matchmaking",
            title: "青年职工交友联谊",
            description: "园区单身青年职工联谊活动报名与牵线服务。",
            members_only: false,
        },
        since,
    )
    .await?;
    service(
        db,
        Service {
            org_id: online,
            kind: "hardship",
            title: "骑手意外帮扶",
            description: "配送途中遭遇交通事故等意外、生活困难的骑手可申请帮扶。",
            members_only: false,
        },
        since,
    )
    .await?;
    let rights = service(
        db,
        Service {
            org_id: women,
            kind: "rights",
            title: "女职工权益维护",
            description: "孕期、产期、哺乳期权益和职场性骚扰问题的咨询与维权支持。",
            members_only: false,
        },
        since,
    )
    .await?;

    let officer = person(db, OFFICER_PHONE, "陈建华").await?;
    insert_role(
        db,
        officer,
        RoleName::OrgAdmin,
        Scope {
            kind: "org",
            id: union,
        },
        None,
    )
    .await?;
    let second = person(db, SECOND_PHONE, "张建国").await?;
    memberships::Entity::insert(memberships::ActiveModel {
        org_id: Set(union),
        user_id: Set(second),
        status: Set("active".into()),
        requested_at: Set(ago(60, 0)),
        decided_at: Set(Some(ago(59, 0))),
        decided_by: Set(Some(officer)),
        ..Default::default()
    })
    .exec(db)
    .await?;

    // 李小梅: an illness hardship case, granted and paid.
    let paid = case(
        db,
        key,
        Case {
            service_id: hardship,
            org_id: union,
            kind: "hardship",
            applicant: worker,
            description: "母亲突发脑梗住院，手术和康复费用约六万元，医保报销后自付部分仍有两万多元，家里一时周转不开。",
            details: Some(serde_json::json!({
                "category": "illness", "household_size": 3, "monthly_income_fen": 520_000,
            })),
            requested: Some(500_000),
            granted: Some(300_000),
            class: Some("sudden"),
            consent: true,
            steps: vec![
                ("submitted", worker, 30, 0, None),
                ("accepted", officer, 29, 0, Some("已电话核实住院情况")),
                ("in_progress", officer, 27, 0, Some("已收到出院小结和费用清单")),
                ("resolved", officer, 20, 0, Some("经工会委员会研究，发放帮扶金3000元")),
            ],
            payment: Some((18, "bank_transfer", 300_000, officer)),
            messages: vec![
                (officer, 20, "请上传出院小结和医疗费用清单，方便我们核实。"),
                (worker, 26, "好的，明天去医院复印后拍照上传。"),
            ],
        },
    )
    .await?;
    // 李小梅: a rights question she withdrew herself.
    case(
        db,
        key,
        Case {
            service_id: rights,
            org_id: women,
            kind: "rights",
            applicant: worker,
            description: "想咨询哺乳期每天的哺乳时间怎么安排。",
            details: None,
            requested: None,
            granted: None,
            class: None,
            consent: false,
            steps: vec![
                ("submitted", worker, 15, 0, None),
                ("withdrawn", worker, 14, 0, Some("已和车间主任沟通好了")),
            ],
            payment: None,
            messages: vec![],
        },
    )
    .await?;
    // 李小梅: a wage dispute the union lawyer is working on.
    case(
        db,
        key,
        Case {
            service_id: legal,
            org_id: union,
            kind: "legal_aid",
            applicant: worker,
            description: "原派遣公司拖欠我去年11月和12月的加班费共约4000元，多次催要没有结果。",
            details: None,
            requested: None,
            granted: None,
            class: None,
            consent: false,
            steps: vec![
                ("submitted", worker, 12, 0, None),
                ("accepted", officer, 11, 0, None),
                ("in_progress", officer, 9, 0, Some("已安排工会律师跟进")),
            ],
            payment: None,
            messages: vec![
                (
                    officer,
                    30,
                    "律师想先看看考勤记录和工资条，您方便的话请准备一下。",
                ),
                (
                    worker,
                    40,
                    "考勤记录我有截图，工资条在手机银行里，我整理后发给您。",
                ),
            ],
        },
    )
    .await?;
    // 张建国: a family hardship case, accepted and classed.
    let accepted = case(
        db,
        key,
        Case {
            service_id: hardship,
            org_id: union,
            kind: "hardship",
            applicant: second,
            description: "爱人今年下岗，孩子上高中，家里只靠我一个人的工资，房贷压力很大。",
            details: Some(serde_json::json!({ "category": "family", "household_size": 4 })),
            requested: Some(200_000),
            granted: None,
            class: Some("relative"),
            consent: true,
            steps: vec![
                ("submitted", second, 6, 0, None),
                ("accepted", officer, 4, 0, Some("已入户走访，情况属实")),
            ],
            payment: None,
            messages: vec![(officer, 30, "下周二我们到家里看看，方便吗？")],
        },
    )
    .await?;
    // 张建国: a legal question outside the union's remit.
    case(
        db,
        key,
        Case {
            service_id: legal,
            org_id: union,
            kind: "legal_aid",
            applicant: second,
            description: "邻居装修占用楼道，想请律师帮忙起诉。",
            details: None,
            requested: None,
            granted: None,
            class: None,
            consent: false,
            steps: vec![
                ("submitted", second, 3, 0, None),
                (
                    "rejected",
                    officer,
                    2,
                    0,
                    Some("邻里纠纷不属于劳动争议，建议向社区人民调解委员会申请调解"),
                ),
            ],
            payment: None,
            messages: vec![],
        },
    )
    .await?;

    // 李小梅: a counselling request just sent.
    case(
        db,
        key,
        Case {
            service_id: counseling,
            org_id: union,
            kind: "counseling",
            applicant: worker,
            description: "最近夜班多，经常失眠，情绪也不太好，想找心理老师聊一聊。",
            details: None,
            requested: None,
            granted: None,
            class: None,
            consent: true,
            steps: vec![("submitted", worker, 0, 5, None)],
            payment: None,
            messages: vec![],
        },
    )
    .await?;
    // 2026 spring festival: both hardship households, 李小梅 already visited.
    let created = ago(2, 0);
    let campaign = campaigns::Entity::insert(campaigns::ActiveModel {
        org_id: Set(union),
        title: Set("2026年春节送温暖".into()),
        occasion: Set("spring_festival".into()),
        status: Set("open".into()),
        households: Set(2),
        created_by: Set(Some(officer)),
        created_at: Set(created),
        closed_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    let visits = [
        (worker, paid, "sudden", true),
        (second, accepted, "relative", false),
    ];
    for (user_id, case_id, class, done) in visits {
        campaign_visits::Entity::insert(campaign_visits::ActiveModel {
            campaign_id: Set(campaign),
            user_id: Set(user_id),
            case_id: Set(Some(case_id)),
            hardship_class: Set(class.into()),
            status: Set(if done { "done" } else { "pending" }.into()),
            visited_on: Set(done.then(|| date_ago(1))),
            form: Set(done.then(|| "both".to_owned())),
            amount_fen: Set(done.then_some(50_000)),
            goods: Set(done.then(|| "大米一袋、食用油一桶".to_owned())),
            note: Set(done.then(|| key.seal("慰问金和物资已送到家中，本人签收"))),
            done_by: Set(done.then_some(officer)),
            done_at: Set(done.then(|| ago(1, 0))),
            ..Default::default()
        })
        .exec(db)
        .await?;
    }
    Ok(())
}
