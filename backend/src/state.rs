//! The one state object every handler receives.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::JwtKeys;
use crate::auth::sms::SmsSender;
use crate::config::Settings;
use crate::crypto::DataKey;
use crate::ops::metrics::Metrics;

/// Shared, cheap to clone; holds nothing that must agree between instances.
#[derive(Clone)]
pub struct AppState {
    /// The database (all state that matters lives there): every write, and every
    /// read that must see a write of the same request.
    pub db: DatabaseConnection,
    /// Reads that follow no write of their request (SQLite: read-only connections
    /// beside the one writer; PostgreSQL: the same pool as `db`). See `db::connect_readers`.
    pub read: DatabaseConnection,
    /// Settings read at start.
    pub settings: Arc<Settings>,
    /// JWT and code-hash keys.
    pub keys: Arc<JwtKeys>,
    /// SMS delivery.
    pub sms: SmsSender,
    /// This instance's request counters.
    pub metrics: Arc<Metrics>,
    /// Encrypts case text and files at rest.
    pub data_key: Arc<DataKey>,
    /// The group-commit writer of check-ins (`checkin::writer`).
    pub checkins: crate::checkin::writer::Writer,
}
