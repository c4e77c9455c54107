//! Reading cases: one case as its applicant or officer sees it (with history,
//! messages and relief warnings), the audited read, and the lists.
use chrono::{Months, NaiveDate};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::audit::{self, Entry};
use crate::auth::AuthUser;
use crate::auth::phone::mask;
use crate::cases::access::Viewer;
use crate::cases::dto::{
    Applicant, AttachmentInfo, Case, CaseQuery, CaseSummary, ConsentView, HistoryItem, Message,
    Payment, ReliefWarning,
};
use crate::cases::service::{HARDSHIP, names};
use crate::cases::status::{self, Status};
use crate::clock::rfc3339;
use crate::crypto::DataKey;
use crate::db::stmt;
use crate::entity::{case_attachments, case_events, case_messages, cases, orgs, services, users};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageQuery};
use crate::services::dto::ServiceKind;

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
    let today = crate::clock::today_shanghai();
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
            (None, Some(ms)) => crate::clock::shanghai_date(ms),
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
    values.push(i64::try_from(page.fetch()).unwrap_or(101).into());
    Ok(stmt(backend, &sql, values))
}
