//! Holiday visit campaigns (节日慰问) to an organization's hardship households.
pub mod dto;
pub mod routes;
pub mod service;
