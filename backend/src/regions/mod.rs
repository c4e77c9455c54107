//! The region tree: province → city → county → township, with parks, buildings and markets.
pub mod routes;
pub mod service;
