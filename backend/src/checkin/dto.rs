//! Request and response bodies of the check-in routes.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the entrance screen shows; fetch again after `refresh_after` seconds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckinQr {
    /// Signed token naming the activity and the current 30-second window.
    pub token: String,
    /// `<public url>/c/<token>`: what the QR code encodes.
    pub url: String,
    /// Six characters to type when no camera works.
    #[schema(example = "7KQ2MX")]
    pub short_code: String,
    /// When the token stops being taken (end of its window plus the grace).
    pub expires_at: String,
    /// Seconds until the next window.
    pub refresh_after: i64,
}

/// `{"token"}` from a scan, or `{"activity_id","short_code"}` typed by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckinRequest {
    /// The scanned token.
    pub token: Option<String>,
    /// The activity, with `short_code`.
    pub activity_id: Option<i64>,
    /// The typed code, with `activity_id`.
    pub short_code: Option<String>,
    /// When the scan happened, for check-ins queued offline (RFC 3339).
    pub scanned_at: Option<String>,
}

/// A check-in as its person sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checkin {
    /// Id of the standing check-in.
    pub id: i64,
    /// The activity.
    pub activity_id: i64,
    /// The person.
    pub user_id: i64,
    /// When it was recorded.
    pub checked_in_at: String,
    /// True when the person was already checked in (nothing new was created).
    pub already: bool,
}

/// A check-in an officer recorded by hand.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ManualCheckin {
    /// Id of the standing check-in.
    pub id: i64,
    /// The activity.
    pub activity_id: i64,
    /// The person.
    pub user_id: i64,
    /// When it was recorded.
    pub checked_in_at: String,
    /// True when the person was already checked in.
    pub already: bool,
    /// qr, short_code or manual.
    pub method: String,
    /// The officer who recorded it (null unless manual).
    pub recorded_by: Option<i64>,
    /// Why it was recorded by hand.
    pub reason: Option<String>,
}

/// `{"phone","reason"}`: check a person in by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualRequest {
    /// The person's phone number.
    pub phone: String,
    /// Why (required).
    pub reason: String,
}

/// `{"reason"}`: undo a wrong check-in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UndoRequest {
    /// Why (required).
    pub reason: String,
}

/// A check-in after an undo, as kept in the history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UndoneCheckin {
    /// Id of the check-in.
    pub id: i64,
    /// The activity.
    pub activity_id: i64,
    /// The person.
    pub user_id: i64,
    /// qr, short_code or manual.
    pub method: String,
    /// When it was recorded.
    pub checked_in_at: String,
    /// When it was undone.
    pub undone_at: String,
    /// Who undid it.
    pub undone_by: Option<i64>,
    /// Why.
    pub undo_reason: Option<String>,
}

/// One refused check-in attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckinFailure {
    /// Who tried.
    pub user_id: i64,
    /// Their name, when known.
    pub name: Option<String>,
    /// The error code they got, e.g. `token_expired`.
    pub reason: String,
    /// qr, short_code or manual.
    pub method: String,
    /// When.
    pub at: String,
}

/// One entry of the caller's check-in history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyCheckin {
    /// Id of the check-in.
    pub id: i64,
    /// The activity.
    pub activity_id: i64,
    /// Its title.
    pub title: String,
    /// When it starts.
    pub starts_at: String,
    /// When the person was checked in.
    pub checked_in_at: String,
    /// qr, short_code or manual.
    pub method: String,
    /// When it was undone by an officer (null while it stands).
    pub undone_at: Option<String>,
}
