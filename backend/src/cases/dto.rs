//! Request and response types of assistance cases.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};

/// Version of the separate consent to processing sensitive personal information.
pub const CONSENT_VERSION: &str = "sensitive-2026-11";

/// The consent text the applicant agrees to (PIPL art. 29–30).
pub const CONSENT_TEXT: &str = "敏感个人信息处理单独同意书\n\
一、收集什么：您在求助中填写的困难情况、健康或心理状况、家庭和收入情况、所需金额，以及您上传的材料。\n\
二、为什么收集：只用于受理、核实和办理您这一次的求助（包括困难帮扶发放和节日走访慰问），不作他用。\n\
三、谁能看到：只有受理该求助的组织的管理员能看到；上级区域管理员只能看到数量统计，看不到您的内容。每次查看都会留下记录。\n\
四、怎样保护：这些内容在系统中加密保存。\n\
五、保存多久：求助办结后保存三年，用于核对帮扶记录，到期删除。\n\
六、怎样撤回：您可以在求助受理前自行撤回求助；也可以随时联系该组织要求撤回同意、删除信息。撤回不影响撤回前已经进行的处理。\n\
不同意不影响您使用其他功能，但困难帮扶和心理疏导类求助需要您的同意才能办理。";

/// Hardship categories (`details.category`).
pub const CATEGORIES: [&str; 6] = [
    "illness",
    "accident",
    "family",
    "disaster",
    "holiday_visit",
    "other",
];
/// Hardship classes an officer may set (深度困难, 相对困难, 意外致困).
pub const HARDSHIP_CLASSES: [&str; 3] = ["deep", "relative", "sudden"];
/// How money or goods were handed over.
pub const PAYMENT_METHODS: [&str; 4] = ["cash", "bank_transfer", "mobile", "goods"];
/// The largest amount asked for or granted: 100,000 yuan.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000;
/// The largest `details` object, serialised.
pub const MAX_DETAILS_BYTES: usize = 8 * 1024;

/// A consent as the applicant sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentGiven {
    /// The version of the text agreed to (see `GET /consents/sensitive`).
    #[schema(example = "sensitive-2026-11")]
    pub version: String,
}

/// `POST /cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// The service asked for.
    pub service_id: i64,
    /// What happened, 1–4000 characters (stored encrypted).
    pub description: String,
    /// Hardship only: 1..=10000000 fen.
    pub amount_requested_fen: Option<i64>,
    /// Extra facts as a JSON object of at most 8 KiB (stored encrypted); hardship needs `category`.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// Separate consent; needed for hardship and counseling.
    pub consent: Option<ConsentGiven>,
}

/// `POST /cases/{id}/transition`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The new status.
    #[schema(example = "accepted")]
    pub to: String,
    /// Reason or remark, at most 1000 characters; needed for `rejected`.
    pub note: Option<String>,
    /// Resolving a hardship case: 0..=10000000 fen.
    pub amount_granted_fen: Option<i64>,
    /// Hardship only: deep, relative or sudden.
    pub hardship_class: Option<String>,
}

/// `PATCH /cases/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCase {
    /// deep, relative or sudden.
    pub hardship_class: String,
}

/// `POST /cases/{id}/payment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPayment {
    /// YYYY-MM-DD, not in the future.
    #[schema(example = "2026-11-20")]
    pub paid_on: String,
    /// cash, bank_transfer, mobile or goods.
    pub method: String,
    /// 1..=amount_granted_fen.
    pub amount_fen: i64,
}

/// `POST /cases/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// 1–2000 characters (stored encrypted).
    pub body: String,
}

/// `GET /cases` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// The caller's own cases (the default without `org_id`).
    pub mine: Option<bool>,
    /// The queue of this org (its officers).
    pub org_id: Option<i64>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this service kind.
    pub kind: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// From `next_cursor`: cases older than it.
    pub cursor: Option<String>,
}

/// `GET /stats/cases`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The region (and its subtree); the caller administers it.
    pub region_id: i64,
}

/// The consent text.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentText {
    /// Version to send back in `consent.version`.
    pub version: String,
    /// The text (zh-CN).
    pub text: String,
}

/// The consent stored on a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    /// Version agreed to.
    pub version: String,
    /// When (RFC 3339).
    pub at: String,
}

/// The applicant as officers see them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Applicant {
    /// User id.
    pub id: i64,
    /// Name.
    pub name: Option<String>,
    /// Masked phone, `138****5678`.
    pub phone: Option<String>,
}

/// One move of the status machine.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryItem {
    /// Previous status (null for the first row).
    pub from: Option<String>,
    /// New status.
    pub to: String,
    /// Who moved it.
    pub by: Option<i64>,
    /// Their name.
    pub by_name: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// Note.
    pub note: Option<String>,
}

/// A message on a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Id.
    pub id: i64,
    /// Writer.
    pub author_id: i64,
    /// Writer's name.
    pub author_name: Option<String>,
    /// Written by the applicant (else by an officer).
    pub from_applicant: bool,
    /// Text.
    pub body: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// An attached file (metadata).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentInfo {
    /// Id.
    pub id: i64,
    /// image/jpeg, image/png or application/pdf.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// The uploader's file name.
    pub name: Option<String>,
    /// When (RFC 3339).
    pub created_at: String,
    /// Where to download it.
    pub url: String,
}

/// The payment record of a hardship case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// YYYY-MM-DD.
    pub paid_on: String,
    /// cash, bank_transfer, mobile or goods.
    pub method: String,
    /// Fen.
    pub amount_fen: i64,
    /// Officer who recorded it.
    pub recorded_by: Option<i64>,
    /// Their name.
    pub recorded_by_name: Option<String>,
    /// When recorded (RFC 3339).
    pub recorded_at: Option<String>,
}

/// Relief the applicant received elsewhere in the last 12 months (officers only).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReliefWarning {
    /// YYYY-MM-DD of payment (or of resolving).
    pub date: String,
    /// The org that gave it.
    pub org_name: String,
    /// Fen.
    pub amount_fen: i64,
}

/// A case in full.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Case {
    /// Id.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Its title.
    pub service_title: String,
    /// Org working it.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Service kind.
    pub kind: String,
    /// Status.
    pub status: String,
    /// What happened.
    pub description: String,
    /// Extra facts.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// Asked for (fen).
    pub amount_requested_fen: Option<i64>,
    /// Granted (fen).
    pub amount_granted_fen: Option<i64>,
    /// deep, relative or sudden.
    pub hardship_class: Option<String>,
    /// The separate consent given.
    pub consent: Option<ConsentView>,
    /// Who asked.
    pub applicant: Applicant,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Every move, oldest first.
    pub history: Vec<HistoryItem>,
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// Files.
    pub attachments: Vec<AttachmentInfo>,
    /// Payment record.
    pub payment: Option<Payment>,
    /// Other relief in the last 12 months (officers only).
    pub relief_warnings: Vec<ReliefWarning>,
    /// Moves the caller may make now.
    pub allowed_transitions: Vec<String>,
}

/// A case in a list (no description).
#[derive(Debug, Serialize, Deserialize, ToSchema, sea_orm::FromQueryResult)]
pub struct CaseSummary {
    /// Id.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Its title.
    pub service_title: String,
    /// Org.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Service kind.
    pub kind: String,
    /// Status.
    pub status: String,
    /// Applicant's name.
    pub applicant_name: Option<String>,
    /// Asked for (fen).
    pub amount_requested_fen: Option<i64>,
    /// deep, relative or sudden.
    pub hardship_class: Option<String>,
    /// RFC 3339 (epoch ms in the row).
    #[schema(value_type = String)]
    #[serde(serialize_with = "ms_as_rfc3339", deserialize_with = "rfc3339_as_ms")]
    pub created_at: i64,
    /// RFC 3339 (epoch ms in the row).
    #[schema(value_type = String)]
    #[serde(serialize_with = "ms_as_rfc3339", deserialize_with = "rfc3339_as_ms")]
    pub updated_at: i64,
}

fn ms_as_rfc3339<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::rfc3339(*ms))
}

fn rfc3339_as_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let raw = String::deserialize(d)?;
    chrono::DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.timestamp_millis())
        .map_err(serde::de::Error::custom)
}

/// Case counts of a region: all a region admin sees of cases.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseStats {
    /// The region.
    pub region_id: i64,
    /// All cases of orgs in its subtree.
    pub total: i64,
    /// By status (every status present, zero included).
    pub by_status: BTreeMap<String, i64>,
    /// By service kind (every kind present, zero included).
    pub by_kind: BTreeMap<String, i64>,
}

/// Checks free text that may span lines: 1..=max characters, no control
/// characters besides line breaks and tabs.
pub fn clean_long_text(
    raw: &str,
    max: usize,
    code: &'static str,
    message: &str,
) -> AppResult<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0
        || n > max
        || t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::rule(code, message));
    }
    Ok(t.to_owned())
}

/// Checks an amount of money: `min..=10000000` fen (422 `invalid_amount`).
pub fn check_amount(v: i64, min: i64) -> AppResult<i64> {
    if (min..=MAX_AMOUNT_FEN).contains(&v) {
        Ok(v)
    } else {
        Err(AppError::rule(
            "invalid_amount",
            format!("金额应在{min}到10000000分（10万元）之间"),
        ))
    }
}

/// Checks a hardship class (422 `invalid_hardship_class`).
pub fn parse_hardship_class(raw: &str) -> AppResult<&'static str> {
    HARDSHIP_CLASSES
        .into_iter()
        .find(|c| *c == raw)
        .ok_or_else(|| {
            AppError::rule(
                "invalid_hardship_class",
                "困难类别只能是 deep（深度）、relative（相对）、sudden（意外致困）",
            )
        })
}

/// Checks a payment date: YYYY-MM-DD, not after `today` (422 `invalid_date`).
pub fn parse_paid_on(raw: &str, today: chrono::NaiveDate) -> AppResult<String> {
    let d = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|_| raw.trim().len() == 10)
        .ok_or_else(|| AppError::rule("invalid_date", "发放日期应为 YYYY-MM-DD"))?;
    if d > today {
        return Err(AppError::rule("invalid_date", "发放日期不能晚于今天"));
    }
    if d < today - chrono::Duration::days(3660) {
        return Err(AppError::rule("invalid_date", "发放日期太早了"));
    }
    Ok(d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded() {
        assert!(check_amount(0, 1).is_err());
        assert_eq!(check_amount(1, 1).expect("ok"), 1);
        assert_eq!(check_amount(0, 0).expect("ok"), 0);
        assert!(check_amount(MAX_AMOUNT_FEN + 1, 0).is_err());
        assert!(check_amount(-5, 0).is_err());
    }

    #[test]
    fn payment_dates_are_checked() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
        assert_eq!(
            parse_paid_on("2026-11-26", today).expect("ok"),
            "2026-11-26"
        );
        assert!(parse_paid_on("2026-11-27", today).is_err());
        assert!(parse_paid_on("2026-2-3", today).is_err());
        assert!(parse_paid_on("2026-02-30", today).is_err());
        assert!(parse_paid_on("yesterday", today).is_err());
    }

    #[test]
    fn classes_and_long_text_are_checked() {
        assert_eq!(parse_hardship_class("deep").expect("ok"), "deep");
        assert!(parse_hardship_class("poor").is_err());
        assert!(clean_long_text("  ", 10, "x", "x").is_err());
        assert!(clean_long_text("a\u{7}", 10, "x", "x").is_err());
        assert_eq!(clean_long_text(" a\nb ", 10, "x", "x").expect("ok"), "a\nb");
        assert!(clean_long_text(&"字".repeat(11), 10, "x", "x").is_err());
    }
}
