//! Assistance cases: requests for help, worked by the officers of one
//! organization and seen by nobody else.
pub mod access;
pub mod attachments;
pub mod routes;
