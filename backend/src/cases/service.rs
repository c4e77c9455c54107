//! Case logic on the database: checks first, then one transaction per write.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Months, NaiveDate};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};

use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::auth::phone::mask;
use crate::cases::access::Viewer;
use crate::cases::dto::{
    Applicant, AttachmentInfo, CATEGORIES, CONSENT_VERSION, Case, CaseQuery, CaseSummary,
    ConsentView, CreateCase, HistoryItem, MAX_DETAILS_BYTES, Message, PAYMENT_METHODS, Payment,
    RecordPayment, ReliefWarning, Transition, check_amount, clean_long_text, parse_hardship_class,
    parse_paid_on,
};
use crate::cases::status::{self, Refusal, Status};
use crate::crypto::DataKey;
use crate::db::{now_ms, rfc3339, stmt};
use crate::entity::{
    case_attachments, case_events, case_messages, cases, orgs, roles, services, users,
};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Notice};
use crate::pagination::{Page, PageQuery};
use crate::services::dto::ServiceKind;

const HARDSHIP: &str = "hardship";

/// A request for help checked at the edge, before its service is known.
pub struct NewCase {
    service_id: i64,
    description: String,
    amount_requested_fen: Option<i64>,
    details: Option<serde_json::Map<String, serde_json::Value>>,
    consent_version: Option<String>,
}

impl NewCase {
    /// Checks the fields that do not depend on the service.
    pub fn parse(b: CreateCase) -> AppResult<NewCase> {
        let description = clean_long_text(
            &b.description,
            4000,
            "invalid_description",
            "情况说明应为1到4000个字",
        )?;
        let details = match b.details {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Object(m)) => {
                if serde_json::Value::Object(m.clone()).to_string().len() > MAX_DETAILS_BYTES {
                    return Err(AppError::rule("invalid_details", "补充信息不能超过8KB"));
                }
                Some(m)
            }
            Some(_) => {
                return Err(AppError::rule("invalid_details", "补充信息应为 JSON 对象"));
            }
        };
        Ok(NewCase {
            service_id: b.service_id,
            description,
            amount_requested_fen: b.amount_requested_fen,
            details,
            consent_version: b.consent.map(|c| c.version),
        })
    }

    /// The service asked for.
    pub fn service_id(&self) -> i64 {
        self.service_id
    }

    /// Checks the rules of the service's kind: hardship amount and category, consent.
    pub fn check_for(&self, kind: ServiceKind) -> AppResult<()> {
        if kind == ServiceKind::Hardship {
            match self.amount_requested_fen {
                Some(a) => {
                    check_amount(a, 1)?;
                }
                None => {
                    return Err(AppError::rule(
                        "invalid_amount",
                        "困难帮扶需要填写申请金额（1到10000000分）",
                    ));
                }
            }
            let category = self
                .details
                .as_ref()
                .and_then(|d| d.get("category"))
                .and_then(|c| c.as_str());
            if !category.is_some_and(|c| CATEGORIES.contains(&c)) {
                return Err(AppError::rule(
                    "invalid_category",
                    "困难类别只能是 illness、accident、family、disaster、holiday_visit、other",
                ));
            }
        } else if self.amount_requested_fen.is_some() {
            return Err(AppError::rule(
                "invalid_amount",
                "只有困难帮扶可以填写申请金额",
            ));
        }
        let consent_ok = self.consent_version.as_deref() == Some(CONSENT_VERSION);
        // A consent to an outdated text counts for nothing, whatever the kind.
        if !consent_ok && (kind.needs_consent() || self.consent_version.is_some()) {
            return Err(AppError::rule(
                "consent_required",
                "请先阅读并同意《敏感个人信息处理单独同意书》",
            ));
        }
        Ok(())
    }
}

/// The `org_admin`s of an org: the people who work its cases.
pub async fn officer_ids<C: ConnectionTrait>(db: &C, org_id: i64) -> AppResult<Vec<i64>> {
    Ok(roles::Entity::find()
        .select_only()
        .column(roles::Column::UserId)
        .filter(roles::Column::Role.eq("org_admin"))
        .filter(roles::Column::Scope.eq(format!("org:{org_id}")))
        .distinct()
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

async fn names<C: ConnectionTrait>(
    db: &C,
    ids: Vec<i64>,
) -> AppResult<HashMap<i64, Option<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Name)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple::<(i64, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Stores a new case with its first history row and tells the org's officers.
/// Runs inside the caller's transaction (which also holds the idempotency key).
pub async fn create<C: ConnectionTrait>(
    txn: &C,
    key: Arc<DataKey>,
    applicant_id: i64,
    service: services::Model,
    c: NewCase,
) -> AppResult<Case> {
    let now = now_ms();
    let details = c
        .details
        .map(|d| key.seal(&serde_json::Value::Object(d).to_string()));
    let row = cases::Entity::insert(cases::ActiveModel {
        service_id: Set(service.id),
        org_id: Set(service.org_id),
        kind: Set(service.kind.clone()),
        applicant_id: Set(applicant_id),
        status: Set(Status::Submitted.as_str().to_owned()),
        description_enc: Set(key.seal(&c.description)),
        details_enc: Set(details),
        amount_requested_fen: Set(c.amount_requested_fen),
        amount_granted_fen: Set(None),
        hardship_class: Set(None),
        consent_at: Set(c.consent_version.is_some().then_some(now)),
        consent_version: Set(c.consent_version),
        paid_on: Set(None),
        paid_method: Set(None),
        paid_amount_fen: Set(None),
        paid_by: Set(None),
        paid_recorded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        resolved_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await?;
    case_events::Entity::insert(case_events::ActiveModel {
        case_id: Set(row.id),
        from_status: Set(None),
        to_status: Set(Status::Submitted.as_str().to_owned()),
        actor_id: Set(Some(applicant_id)),
        note_enc: Set(None),
        at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    for officer in officer_ids(txn, service.org_id).await? {
        if officer == applicant_id {
            continue;
        }
        notify::push(
            txn,
            Notice {
                user_id: officer,
                kind: "case_new",
                title: "有新的求助".into(),
                body: format!("「{}」收到一条新的求助，请及时受理。", service.title),
                link: Some(format!("/admin/cases/{}", row.id)),
                sms: false,
            },
        )
        .await?;
    }
    view(txn, &key, row, Viewer::Applicant).await
}

#[derive(FromQueryResult)]
struct ReliefRow {
    paid_on: Option<String>,
    resolved_at: Option<i64>,
    amount_granted_fen: Option<i64>,
    paid_amount_fen: Option<i64>,
    org_name: String,
}

/// Hardship relief the applicant got on other cases (any org) in the last 12 months.
async fn relief_warnings<C: ConnectionTrait>(
    db: &C,
    case: &cases::Model,
) -> AppResult<Vec<ReliefWarning>> {
    let sql = "SELECT c.paid_on, c.resolved_at, c.amount_granted_fen, c.paid_amount_fen, \
               o.name AS org_name FROM cases c JOIN orgs o ON o.id = c.org_id \
               WHERE c.applicant_id = ? AND c.kind = ? AND c.id <> ? \
               AND c.status IN ('resolved', 'closed') AND c.amount_granted_fen > 0 \
               ORDER BY c.id DESC";
    let rows = ReliefRow::find_by_statement(stmt(
        db.get_database_backend(),
        sql,
        vec![case.applicant_id.into(), HARDSHIP.into(), case.id.into()],
    ))
    .all(db)
    .await?;
    let today = crate::orgs::service::today_shanghai();
    let since = today
        .checked_sub_months(Months::new(12))
        .unwrap_or(NaiveDate::MIN);
    let mut out = Vec::new();
    for r in rows {
        let date = match (
            r.paid_on
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            r.resolved_at,
        ) {
            (Some(d), _) => d,
            (None, Some(ms)) => crate::orgs::service::shanghai_date(ms),
            (None, None) => continue,
        };
        if date < since || date > today {
            continue;
        }
        out.push(ReliefWarning {
            date: date.format("%Y-%m-%d").to_string(),
            org_name: r.org_name,
            amount_fen: r.paid_amount_fen.or(r.amount_granted_fen).unwrap_or(0),
        });
    }
    Ok(out)
}

/// The full case as `viewer` sees it.
pub async fn view<C: ConnectionTrait>(
    db: &C,
    key: &DataKey,
    c: cases::Model,
    viewer: Viewer,
) -> AppResult<Case> {
    let service_title = services::Entity::find_by_id(c.service_id)
        .one(db)
        .await?
        .map(|s| s.title)
        .unwrap_or_default();
    let org_name = orgs::Entity::find_by_id(c.org_id)
        .one(db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let applicant = users::Entity::find_by_id(c.applicant_id).one(db).await?;
    let events = case_events::Entity::find()
        .filter(case_events::Column::CaseId.eq(c.id))
        .order_by_asc(case_events::Column::Id)
        .all(db)
        .await?;
    let messages = case_messages::Entity::find()
        .filter(case_messages::Column::CaseId.eq(c.id))
        .order_by_asc(case_messages::Column::Id)
        .all(db)
        .await?;
    // Metadata only: the file bytes stay in the database.
    let files = case_attachments::Entity::find()
        .select_only()
        .columns([
            case_attachments::Column::Id,
            case_attachments::Column::ContentType,
            case_attachments::Column::Size,
            case_attachments::Column::NameEnc,
            case_attachments::Column::CreatedAt,
        ])
        .filter(case_attachments::Column::CaseId.eq(c.id))
        .order_by_asc(case_attachments::Column::Id)
        .into_tuple::<(i64, String, i64, Option<String>, i64)>()
        .all(db)
        .await?;
    let mut people: Vec<i64> = events
        .iter()
        .filter_map(|e| e.actor_id)
        .chain(messages.iter().map(|m| m.author_id))
        .chain(c.paid_by)
        .collect();
    people.sort_unstable();
    people.dedup();
    let who = names(db, people).await?;
    let name_of = |id: Option<i64>| id.and_then(|i| who.get(&i).cloned().flatten());

    let mut history = Vec::with_capacity(events.len());
    for e in events {
        history.push(HistoryItem {
            from: e.from_status,
            to: e.to_status,
            by: e.actor_id,
            by_name: name_of(e.actor_id),
            at: rfc3339(e.at),
            note: key.open_opt(e.note_enc.as_deref())?,
        });
    }
    let mut msgs = Vec::with_capacity(messages.len());
    for m in messages {
        msgs.push(Message {
            id: m.id,
            author_id: m.author_id,
            author_name: name_of(Some(m.author_id)),
            from_applicant: m.author_id == c.applicant_id,
            body: key.open(&m.body_enc)?,
            created_at: rfc3339(m.created_at),
        });
    }
    let mut attachments = Vec::with_capacity(files.len());
    for (id, content_type, size, name_enc, created_at) in files {
        attachments.push(AttachmentInfo {
            id,
            content_type,
            size,
            name: key.open_opt(name_enc.as_deref())?,
            created_at: rfc3339(created_at),
            url: format!("/api/v1/cases/{}/attachments/{id}", c.id),
        });
    }
    let details = match key.open_opt(c.details_enc.as_deref())? {
        None => None,
        Some(s) => Some(
            serde_json::from_str(&s)
                .map_err(|e| AppError::Internal(format!("case details: {e}")))?,
        ),
    };
    let relief = if viewer == Viewer::Officer && c.kind == HARDSHIP {
        relief_warnings(db, &c).await?
    } else {
        Vec::new()
    };
    let allowed = Status::parse(&c.status)
        .map(|s| status::moves(s, viewer))
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let payment = match (&c.paid_on, &c.paid_method, c.paid_amount_fen) {
        (Some(on), Some(method), Some(amount)) => Some(Payment {
            paid_on: on.clone(),
            method: method.clone(),
            amount_fen: amount,
            recorded_by: c.paid_by,
            recorded_by_name: name_of(c.paid_by),
            recorded_at: c.paid_recorded_at.map(rfc3339),
        }),
        _ => None,
    };
    Ok(Case {
        id: c.id,
        service_id: c.service_id,
        service_title,
        org_id: c.org_id,
        org_name,
        kind: c.kind,
        status: c.status,
        description: key.open(&c.description_enc)?,
        details,
        amount_requested_fen: c.amount_requested_fen,
        amount_granted_fen: c.amount_granted_fen,
        hardship_class: c.hardship_class,
        consent: match (c.consent_version, c.consent_at) {
            (Some(version), Some(at)) => Some(ConsentView {
                version,
                at: rfc3339(at),
            }),
            _ => None,
        },
        applicant: Applicant {
            id: c.applicant_id,
            name: applicant.as_ref().and_then(|u| u.name.clone()),
            phone: applicant.and_then(|u| u.phone).map(|p| mask(&p)),
        },
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        history,
        messages: msgs,
        attachments,
        payment,
        relief_warnings: relief,
        allowed_transitions: allowed,
    })
}

/// Appends `case.read`: an officer opened a case.
pub async fn audit_read(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: &cases::Model,
    ip: Option<String>,
) -> AppResult<()> {
    audit::record(
        db,
        Entry {
            actor: Some(me.id()),
            action: "case.read",
            target: format!("case:{}", c.id),
            region_id: audit::org_region(db, c.org_id).await?,
            ip,
            detail: None,
        },
    )
    .await
}

/// Which list the caller asked for.
pub enum ListOf {
    /// Their own cases.
    Mine(i64),
    /// The queue of an org they work.
    Org(i64),
}

/// One page of cases, newest first, in one query on the indexes.
pub async fn list(
    db: &DatabaseConnection,
    of: ListOf,
    q: &CaseQuery,
) -> AppResult<Page<CaseSummary>> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let statement = list_statement(db.get_database_backend(), &of, q, &page)?;
    let rows = CaseSummary::find_by_statement(statement).all(db).await?;
    Ok(page.finish(rows, |r| r.id, |r| r))
}

/// The one statement behind [`list`]: keyset on `id` over `idx_cases_org_status`
/// / `idx_cases_org` (or `idx_cases_applicant`), names joined in, no per-row queries.
pub fn list_statement(
    backend: sea_orm::DatabaseBackend,
    of: &ListOf,
    q: &CaseQuery,
    page: &PageQuery,
) -> AppResult<sea_orm::Statement> {
    let mut sql = String::from(
        "SELECT c.id, c.service_id, s.title AS service_title, c.org_id, o.name AS org_name, \
         c.kind, c.status, u.name AS applicant_name, c.amount_requested_fen, c.hardship_class, \
         c.created_at, c.updated_at \
         FROM cases c \
         JOIN services s ON s.id = c.service_id \
         JOIN orgs o ON o.id = c.org_id \
         JOIN users u ON u.id = c.applicant_id WHERE ",
    );
    let mut values: Vec<sea_orm::Value> = Vec::new();
    match of {
        ListOf::Mine(user_id) => {
            sql.push_str("c.applicant_id = ?");
            values.push((*user_id).into());
            if let Some(org_id) = q.org_id {
                sql.push_str(" AND c.org_id = ?");
                values.push(org_id.into());
            }
        }
        ListOf::Org(org_id) => {
            sql.push_str("c.org_id = ?");
            values.push((*org_id).into());
        }
    }
    let status_filtered = q.status.as_deref().is_some_and(|s| !s.is_empty());
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let s = Status::parse(s).ok_or_else(|| AppError::bad_request("status 不正确"))?;
        sql.push_str(" AND c.status = ?");
        values.push(s.as_str().into());
    }
    if let Some(k) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        let k = ServiceKind::parse(k).map_err(|_| AppError::bad_request("kind 不正确"))?;
        sql.push_str(" AND c.kind = ?");
        values.push(k.as_str().into());
    }
    if let Some(after) = page.after {
        sql.push_str(" AND c.id < ?");
        values.push(after.into());
    }
    // With the org (and status) fixed by equality these orders are all `id DESC`,
    // but spelled as the index's columns they leave the planner no reason to walk
    // the primary key and filter instead.
    sql.push_str(match (of, status_filtered) {
        (ListOf::Org(_), true) => " ORDER BY c.org_id DESC, c.status DESC, c.id DESC LIMIT ?",
        (ListOf::Org(_), false) => " ORDER BY c.org_id DESC, c.id DESC LIMIT ?",
        (ListOf::Mine(_), _) => " ORDER BY c.id DESC LIMIT ?",
    });
    values.push(i64::try_from(page.limit + 1).unwrap_or(101).into());
    Ok(stmt(backend, &sql, values))
}

/// A transition checked against the machine and the case.
pub struct Move {
    from: Status,
    to: Status,
    note: Option<String>,
    amount_granted_fen: Option<i64>,
    hardship_class: Option<&'static str>,
}

impl Move {
    /// Checks a requested move by `viewer` on `c` (403, 409 or 422 as API.md says).
    pub fn parse(c: &cases::Model, viewer: Viewer, b: Transition) -> AppResult<Move> {
        let from = Status::parse(&c.status)
            .ok_or_else(|| AppError::Internal(format!("case {} has status {}", c.id, c.status)))?;
        let to = Status::parse(b.to.trim())
            .ok_or_else(|| AppError::Conflict("invalid_transition", "没有这个状态".into()))?;
        match status::check(from, to, viewer) {
            Ok(()) => {}
            Err(Refusal::NotYours) => {
                return Err(AppError::Forbidden(
                    "forbidden",
                    "只有该组织的管理员可以办理这个求助",
                ));
            }
            Err(Refusal::Invalid) => {
                return Err(AppError::Conflict(
                    "invalid_transition",
                    format!("求助现在是“{}”，不能改为“{}”", from.label(), to.label()),
                ));
            }
        }
        let note = match b.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(clean_long_text(
                n,
                1000,
                "invalid_note",
                "备注不能超过1000个字",
            )?),
        };
        if to == Status::Rejected && note.is_none() {
            return Err(AppError::rule("note_required", "不受理时请写明原因"));
        }
        let hardship = c.kind == HARDSHIP;
        let amount_granted_fen = match (to, hardship, b.amount_granted_fen) {
            (Status::Resolved, true, Some(a)) => Some(check_amount(a, 0)?),
            (Status::Resolved, true, None) => {
                return Err(AppError::rule(
                    "invalid_amount",
                    "办结困难帮扶时请填写发放金额（0到10000000分）",
                ));
            }
            (_, _, Some(_)) => {
                return Err(AppError::rule(
                    "invalid_amount",
                    "只有办结困难帮扶时才填写发放金额",
                ));
            }
            (_, _, None) => None,
        };
        let hardship_class = match b.hardship_class.as_deref() {
            None => None,
            Some(_) if !hardship => {
                return Err(AppError::rule("not_hardship", "只有困难帮扶才有困难类别"));
            }
            Some(h) => Some(parse_hardship_class(h.trim())?),
        };
        Ok(Move {
            from,
            to,
            note,
            amount_granted_fen,
            hardship_class,
        })
    }
}

/// Makes the move if the case is still where it was read (two officers racing:
/// one wins, the other gets 409), records it, tells the applicant.
/// Returns the case and the notifications to send by SMS.
pub async fn transition(
    db: &DatabaseConnection,
    key: &DataKey,
    me: &AuthUser,
    c: cases::Model,
    viewer: Viewer,
    m: Move,
    ip: Option<String>,
) -> AppResult<(cases::Model, Vec<i64>)> {
    let now = now_ms();
    let txn = db.begin().await?;
    let mut upd = cases::Entity::update_many()
        .col_expr(cases::Column::Status, Expr::value(m.to.as_str()))
        .col_expr(cases::Column::UpdatedAt, Expr::value(now));
    if m.to == Status::Resolved {
        upd = upd.col_expr(cases::Column::ResolvedAt, Expr::value(now));
    }
    if let Some(a) = m.amount_granted_fen {
        upd = upd.col_expr(cases::Column::AmountGrantedFen, Expr::value(a));
    }
    if let Some(h) = m.hardship_class {
        upd = upd.col_expr(cases::Column::HardshipClass, Expr::value(h));
    }
    let done = upd
        .filter(cases::Column::Id.eq(c.id))
        .filter(cases::Column::Status.eq(m.from.as_str()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "invalid_transition",
            "求助状态刚刚被别人改过了，请刷新后再试".into(),
        ));
    }
    case_events::Entity::insert(case_events::ActiveModel {
        case_id: Set(c.id),
        from_status: Set(Some(m.from.as_str().to_owned())),
        to_status: Set(m.to.as_str().to_owned()),
        actor_id: Set(Some(me.id())),
        note_enc: Set(key.seal_opt(m.note.as_deref())),
        at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let mut sms = Vec::new();
    if viewer == Viewer::Officer {
        let title = services::Entity::find_by_id(c.service_id)
            .one(&txn)
            .await?
            .map(|s| s.title)
            .unwrap_or_default();
        sms.push(
            notify::push(
                &txn,
                Notice {
                    user_id: c.applicant_id,
                    kind: "case_status",
                    title: "求助进度更新".into(),
                    body: format!("您申请的「{title}」{}。请登录查看详情。", m.to.label()),
                    link: Some(format!("/cases/{}", c.id)),
                    sms: true,
                },
            )
            .await?,
        );
        audit::record(
            &txn,
            Entry {
                actor: Some(me.id()),
                action: "case.transition",
                target: format!("case:{}", c.id),
                region_id: audit::org_region(&txn, c.org_id).await?,
                ip,
                detail: Some(serde_json::json!({ "from": m.from.as_str(), "to": m.to.as_str() })),
            },
        )
        .await?;
    }
    let row = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok((row, sms))
}

/// Sets the hardship class of a hardship case (officer).
pub async fn set_class(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: cases::Model,
    class: &str,
    ip: Option<String>,
) -> AppResult<cases::Model> {
    if c.kind != HARDSHIP {
        return Err(AppError::rule("not_hardship", "只有困难帮扶才有困难类别"));
    }
    let class = parse_hardship_class(class.trim())?;
    let txn = db.begin().await?;
    cases::Entity::update_many()
        .col_expr(cases::Column::HardshipClass, Expr::value(class))
        .col_expr(cases::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(cases::Column::Id.eq(c.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "case.update",
            target: format!("case:{}", c.id),
            region_id: audit::org_region(&txn, c.org_id).await?,
            ip,
            detail: Some(serde_json::json!({ "hardship_class": class })),
        },
    )
    .await?;
    let row = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}

/// Records how a resolved hardship case was paid, once.
pub async fn record_payment(
    db: &DatabaseConnection,
    me: &AuthUser,
    c: cases::Model,
    b: RecordPayment,
    ip: Option<String>,
) -> AppResult<cases::Model> {
    if c.kind != HARDSHIP {
        return Err(AppError::rule("not_hardship", "只有困难帮扶才能登记发放"));
    }
    let paid_on = parse_paid_on(&b.paid_on, crate::orgs::service::today_shanghai())?;
    let method = PAYMENT_METHODS
        .into_iter()
        .find(|m| *m == b.method.trim())
        .ok_or_else(|| {
            AppError::rule(
                "invalid_method",
                "发放方式只能是 cash、bank_transfer、mobile、goods",
            )
        })?;
    let resolved = |s: &str| matches!(Status::parse(s), Some(Status::Resolved | Status::Closed));
    if !resolved(&c.status) {
        return Err(AppError::Conflict(
            "not_resolved",
            "求助办结后才能登记发放".into(),
        ));
    }
    if c.paid_on.is_some() {
        return Err(AppError::Conflict(
            "payment_exists",
            "已经登记过发放".into(),
        ));
    }
    let granted = c.amount_granted_fen.unwrap_or(0);
    if b.amount_fen < 1 || b.amount_fen > granted {
        return Err(AppError::rule(
            "invalid_amount",
            format!("发放金额应在1到批准金额{granted}分之间"),
        ));
    }
    let now = now_ms();
    let txn = db.begin().await?;
    let done = cases::Entity::update_many()
        .col_expr(cases::Column::PaidOn, Expr::value(paid_on.clone()))
        .col_expr(cases::Column::PaidMethod, Expr::value(method))
        .col_expr(cases::Column::PaidAmountFen, Expr::value(b.amount_fen))
        .col_expr(cases::Column::PaidBy, Expr::value(me.id()))
        .col_expr(cases::Column::PaidRecordedAt, Expr::value(now))
        .col_expr(cases::Column::UpdatedAt, Expr::value(now))
        .filter(cases::Column::Id.eq(c.id))
        .filter(cases::Column::PaidOn.is_null())
        .filter(cases::Column::Status.is_in([Status::Resolved.as_str(), Status::Closed.as_str()]))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "payment_exists",
            "已经登记过发放".into(),
        ));
    }
    audit::record(
        &txn,
        Entry {
            actor: Some(me.id()),
            action: "case.payment",
            target: format!("case:{}", c.id),
            region_id: audit::org_region(&txn, c.org_id).await?,
            ip,
            detail: Some(serde_json::json!({
                "paid_on": paid_on, "method": method, "amount_fen": b.amount_fen,
            })),
        },
    )
    .await?;
    let row = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}

/// Writes a message on an open case and tells the other side (in the app only).
pub async fn post_message(
    db: &DatabaseConnection,
    key: &DataKey,
    me: &AuthUser,
    c: &cases::Model,
    body: &str,
) -> AppResult<Message> {
    let body = clean_long_text(body, 2000, "invalid_body", "留言应为1到2000个字")?;
    if Status::parse(&c.status).is_none_or(Status::is_final) {
        return Err(AppError::Conflict(
            "case_closed",
            "这个求助已经结束，不能再留言".into(),
        ));
    }
    let now = now_ms();
    let txn = db.begin().await?;
    // Re-checked inside the transaction: the case may have closed since it was read.
    let live = cases::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .and_then(|r| Status::parse(&r.status))
        .is_some_and(|s| !s.is_final());
    if !live {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "case_closed",
            "这个求助已经结束，不能再留言".into(),
        ));
    }
    let row = case_messages::Entity::insert(case_messages::ActiveModel {
        case_id: Set(c.id),
        author_id: Set(me.id()),
        body_enc: Set(key.seal(&body)),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    let title = services::Entity::find_by_id(c.service_id)
        .one(&txn)
        .await?
        .map(|s| s.title)
        .unwrap_or_default();
    let from_applicant = me.id() == c.applicant_id;
    let to: Vec<i64> = if from_applicant {
        officer_ids(&txn, c.org_id).await?
    } else {
        vec![c.applicant_id]
    };
    for user_id in to.into_iter().filter(|u| *u != me.id()) {
        notify::push(
            &txn,
            Notice {
                user_id,
                kind: "case_message",
                title: "求助有新留言".into(),
                body: format!("「{title}」有一条新留言，请登录查看。"),
                // Officers work the case on its officer page.
                link: Some(if from_applicant {
                    format!("/admin/cases/{}", c.id)
                } else {
                    format!("/cases/{}", c.id)
                }),
                sms: false,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Message {
        id: row.id,
        author_id: row.author_id,
        author_name: me.user.name.clone(),
        from_applicant,
        body,
        created_at: rfc3339(row.created_at),
    })
}

#[derive(FromQueryResult)]
struct CountRow {
    k: String,
    n: i64,
}

/// Case counts of the orgs in a region's subtree (no case content).
pub async fn stats(
    db: &DatabaseConnection,
    region: &crate::entity::regions::Model,
) -> AppResult<crate::cases::dto::CaseStats> {
    let count_by = |col: &str| {
        stmt(
            db.get_database_backend(),
            &format!(
                "SELECT c.{col} AS k, COUNT(*) AS n FROM cases c \
                 JOIN orgs o ON o.id = c.org_id JOIN regions r ON r.id = o.region_id \
                 WHERE r.path LIKE ? GROUP BY c.{col}"
            ),
            vec![format!("{}%", region.path).into()],
        )
    };
    let mut by_status: std::collections::BTreeMap<String, i64> = Status::ALL
        .into_iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut by_kind: std::collections::BTreeMap<String, i64> = ServiceKind::ALL
        .into_iter()
        .map(|k| (k.as_str().to_owned(), 0))
        .collect();
    let mut total = 0;
    for r in CountRow::find_by_statement(count_by("status"))
        .all(db)
        .await?
    {
        total += r.n;
        by_status.insert(r.k, r.n);
    }
    for r in CountRow::find_by_statement(count_by("kind"))
        .all(db)
        .await?
    {
        by_kind.insert(r.k, r.n);
    }
    Ok(crate::cases::dto::CaseStats {
        region_id: region.id,
        total,
        by_status,
        by_kind,
    })
}
