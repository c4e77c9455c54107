//! QR check-in: the rotating signed token and short code shown at the door, the
//! check-in itself with every rule of API.md, and the officers' tools (failed-scan
//! log, undo, check-in by phone).
pub mod dto;
pub mod routes;
pub mod service;
pub mod token;
pub mod writer;
