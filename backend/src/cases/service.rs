//! Filing a case: the request checked at the edge, the officers who will work it,
//! and the insert with its first history row. Reading, the workflow, messages and
//! statistics live beside it (`viewing`, `workflow`, `messages`, `stats`).
use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::cases::access::Viewer;
use crate::cases::dto::{
    CATEGORIES, CONSENT_VERSION, Case, CreateCase, MAX_DETAILS_BYTES, check_amount, clean_long_text,
};
use crate::cases::status::Status;
use crate::clock::now_ms;
use crate::crypto::DataKey;
use crate::entity::{case_events, cases, roles, services, users};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Notice};
use crate::services::dto::ServiceKind;

pub(crate) const HARDSHIP: &str = "hardship";

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

pub(crate) async fn names<C: ConnectionTrait>(
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
    crate::cases::viewing::view(txn, &key, row, Viewer::Applicant).await
}
