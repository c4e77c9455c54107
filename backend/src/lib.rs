//! qunjia (群家): the backend through which workers of private enterprises and
//! platform workers join their trade union, youth league and women's
//! organization, and through which officers run them.
pub mod activities;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod cases;
pub mod checkin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod coverage;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod entity;
pub mod error;
pub mod export;
pub mod extract;
pub mod housekeeping;
pub mod idempotency;
pub mod memberships;
pub mod notify;
pub mod ops;
pub mod orgs;
pub mod pagination;
pub mod people;
pub mod pwa;
pub mod ratelimit;
pub mod regions;
pub mod routing;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod units;
pub mod upload;
