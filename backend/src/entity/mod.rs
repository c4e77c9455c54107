//! sea-orm entities, one module per table (generated style: no behaviour here).
pub mod activities;
pub mod audit_log;
pub mod centres;
pub mod checkin_failures;
pub mod checkins;
pub mod idempotency_keys;
pub mod leaders;
pub mod memberships;
pub mod org_units;
pub mod orgs;
pub mod otp_codes;
pub mod refresh_tokens;
pub mod regions;
pub mod roles;
pub mod signups;
pub mod units;
pub mod users;
