//! Memberships (会员): joining an organization, the officers' decisions on it,
//! leaving and removal, and the lists of members.
pub mod access;
pub mod dto;
pub mod routes;
pub mod service;
