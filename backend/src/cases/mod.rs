//! Assistance cases: requests for help, worked by the officers of one
//! organization and seen by nobody else.
pub mod access;
pub mod attachments;
pub mod dto;
pub mod files;
pub mod messages;
pub mod routes;
pub mod service;
pub mod stats;
pub mod status;
pub mod viewing;
pub mod workflow;
