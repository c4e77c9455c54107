//! HTTP tests over real sockets against a server bound to port 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop at the first surprise"
)]
#[path = "../support/mod.rs"]
mod support;

mod helpers;

mod activities;
mod attachments;
mod audit;
mod auth;
mod campaigns;
mod cases;
mod checkins;
mod concurrency;
mod coverage;
mod exports;
mod housekeeping;
mod idempotency;
mod instances;
mod jwt;
mod memberships;
mod notifications;
mod ops;
mod orgs;
mod people;
mod regions;
mod rekey;
mod roles;
mod services;
mod smoke;
mod units;
