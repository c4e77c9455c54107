//! HTTP tests over real sockets against a server bound to port 0.
#[path = "../support/mod.rs"]
mod support;

mod helpers;

mod activities;
mod auth;
mod checkins;
mod concurrency;
mod coverage;
mod idempotency;
mod instances;
mod jwt;
mod memberships;
mod ops;
mod orgs;
mod people;
mod regions;
mod roles;
mod smoke;
mod units;
