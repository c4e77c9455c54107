//! Request and response types of centres, activities, sign-ups and attendance.
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::clock::rfc3339;
use crate::entity::{activities, centres};
use crate::error::{AppError, AppResult};

/// The four "homes" a centre can integrate.
pub const HOMES: [&str; 4] = ["party", "workers", "youth", "women"];
/// Activity kinds.
pub const KINDS: [&str; 7] = [
    "lecture",
    "culture",
    "competition",
    "service",
    "volunteer",
    "meeting",
    "other",
];
/// Who may take part.
pub const AUDIENCES: [&str; 2] = ["members", "public"];
/// The longest an activity may last.
pub const MAX_LENGTH_MS: i64 = 7 * 24 * 3600 * 1000;
/// The largest capacity.
pub const MAX_CAPACITY: i64 = 100_000;

/// Distinguishes a field that is absent (`None`) from one sent as null (`Some(None)`).
fn double<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Parses an RFC 3339 time into epoch milliseconds (422 `invalid_time`).
pub fn parse_time(raw: &str, field: &str) -> AppResult<i64> {
    crate::clock::parse_rfc3339_ms(raw)
        .ok_or_else(|| AppError::rule("invalid_time", format!("{field} 应为 RFC 3339 时间")))
}

/// Checks a time span: ends after it starts, at most seven days long.
pub fn check_span(starts_at: i64, ends_at: i64) -> AppResult<()> {
    if ends_at <= starts_at {
        return Err(AppError::rule("invalid_time", "结束时间应晚于开始时间"));
    }
    if ends_at - starts_at > MAX_LENGTH_MS {
        return Err(AppError::rule("invalid_time", "活动时长不能超过7天"));
    }
    Ok(())
}

/// Checks a capacity value (1..=100000).
pub fn check_capacity(c: i64) -> AppResult<i32> {
    if (1..=MAX_CAPACITY).contains(&c) {
        Ok(c as i32)
    } else {
        Err(AppError::rule(
            "invalid_capacity",
            "人数上限应在1到100000之间",
        ))
    }
}

/// Checks an enumerated value.
pub fn one_of(v: &str, allowed: &[&str], code: &'static str, message: &str) -> AppResult<String> {
    allowed
        .iter()
        .find(|a| **a == v)
        .map(|a| (*a).to_owned())
        .ok_or_else(|| AppError::rule(code, message))
}

/// `POST /centres`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCentre {
    /// Name, 1–100 characters.
    #[schema(example = "高新区党群服务中心")]
    pub name: String,
    /// The region it lies in; the caller must administer it.
    pub region_id: i64,
    /// Address, 1–200 characters.
    pub address: String,
    /// Non-empty subset of party, workers, youth, women, without duplicates.
    #[schema(example = json!(["party", "workers", "youth", "women"]))]
    pub homes: Vec<String>,
    /// People the room holds.
    pub capacity: Option<i64>,
}

/// A centre as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Centre {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Region.
    pub region_id: i64,
    /// Address.
    pub address: String,
    /// The homes it integrates.
    pub homes: Vec<String>,
    /// People the room holds.
    pub capacity: Option<i32>,
}

impl From<centres::Model> for Centre {
    fn from(m: centres::Model) -> Self {
        Centre {
            id: m.id,
            name: m.name,
            region_id: m.region_id,
            address: m.address,
            homes: m
                .homes
                .split(',')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
            capacity: m.capacity,
        }
    }
}

/// `GET /centres` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CentreQuery {
    /// Centres in this region's subtree.
    pub region_id: Option<i64>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

/// `POST /activities`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActivity {
    /// The organization holding it.
    pub org_id: i64,
    /// The centre it takes place in.
    pub centre_id: Option<i64>,
    /// Title, 1–100 characters.
    #[schema(example = "劳动法律知识讲座")]
    pub title: String,
    /// Up to 2000 characters.
    pub description: Option<String>,
    /// lecture, culture, competition, service, volunteer, meeting or other.
    #[schema(example = "lecture")]
    pub kind: String,
    /// RFC 3339.
    #[schema(example = "2026-05-07T08:30:00Z")]
    pub starts_at: String,
    /// RFC 3339; after `starts_at`, at most 7 days later.
    #[schema(example = "2026-05-07T10:30:00Z")]
    pub ends_at: String,
    /// 1–100000; none means unlimited.
    pub capacity: Option<i64>,
    /// Check-in only for those signed up (default false).
    pub signup_required: Option<bool>,
    /// members (default) or public.
    pub audience: Option<String>,
}

/// `PATCH /activities/{id}`: only the fields sent change; null clears
/// `description`, `capacity` and `centre_id`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchActivity {
    /// New title.
    pub title: Option<String>,
    /// New description (null clears it).
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New kind.
    pub kind: Option<String>,
    /// New start.
    pub starts_at: Option<String>,
    /// New end.
    pub ends_at: Option<String>,
    /// New capacity, not below the current sign-ups (null: unlimited).
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub capacity: Option<Option<i64>>,
    /// New sign-up rule.
    pub signup_required: Option<bool>,
    /// New audience.
    pub audience: Option<String>,
    /// New centre (null: none).
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub centre_id: Option<Option<i64>>,
}

/// `POST /activities/{id}/cancel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelActivity {
    /// Why (1–500 characters).
    pub reason: String,
}

/// An activity as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    /// Id.
    pub id: i64,
    /// Holding organization.
    pub org_id: i64,
    /// Centre, if any.
    pub centre_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Kind.
    pub kind: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    /// Capacity (null: unlimited).
    pub capacity: Option<i32>,
    /// Whether check-in needs a sign-up.
    pub signup_required: bool,
    /// members or public.
    pub audience: String,
    /// scheduled or cancelled.
    pub status: String,
    /// Standing check-ins.
    pub checked_in: i32,
    /// Active sign-ups.
    pub signed_up: i32,
}

impl From<activities::Model> for Activity {
    fn from(m: activities::Model) -> Self {
        Activity {
            id: m.id,
            org_id: m.org_id,
            centre_id: m.centre_id,
            title: m.title,
            description: m.description,
            kind: m.kind,
            starts_at: rfc3339(m.starts_at),
            ends_at: rfc3339(m.ends_at),
            capacity: m.capacity,
            signup_required: m.signup_required,
            audience: m.audience,
            status: m.status,
            checked_in: m.checked_in,
            signed_up: m.signed_up,
        }
    }
}

/// `GET /activities` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Only this organization's.
    pub org_id: Option<i64>,
    /// Only those in this centre.
    pub centre_id: Option<i64>,
    /// Starting at or after (RFC 3339).
    pub from: Option<String>,
    /// Starting before (RFC 3339).
    pub to: Option<String>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

/// A sign-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signup {
    /// Id.
    pub id: i64,
    /// Activity.
    pub activity_id: i64,
    /// Person.
    pub user_id: i64,
    /// active or cancelled.
    pub status: String,
}

/// One of the caller's sign-ups, with its activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySignup {
    /// Sign-up id.
    pub id: i64,
    /// Activity.
    pub activity_id: i64,
    /// Activity title.
    pub title: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    /// Activity status: scheduled or cancelled.
    pub activity_status: String,
    /// Sign-up status: active or cancelled.
    pub status: String,
    /// When the person signed up (RFC 3339).
    pub created_at: String,
}

/// One check-in in the attendance list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceItem {
    /// Check-in id.
    pub id: i64,
    /// Person.
    pub user_id: i64,
    /// Their name.
    pub name: Option<String>,
    /// Masked (`138****5678`) unless the viewer is an admin covering the person.
    pub phone: Option<String>,
    /// qr, short_code or manual.
    pub method: String,
    /// RFC 3339.
    pub checked_in_at: String,
    /// When the code was scanned, for queued offline check-ins.
    pub scanned_at: Option<String>,
    /// When an officer undid it.
    pub undone_at: Option<String>,
    /// Why it was undone.
    pub undo_reason: Option<String>,
}

/// `GET /activities/{id}/attendance`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attendance {
    /// Check-ins, oldest first.
    pub items: Vec<AttendanceItem>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
    /// Standing check-ins.
    pub checked_in: i32,
    /// Active sign-ups.
    pub signed_up: i32,
}
