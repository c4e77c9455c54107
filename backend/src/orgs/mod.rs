//! Mass organizations (群团组织): creating them for the units they cover, the
//! public join poster and leaders (班子成员). Memberships are their own capability.
pub mod access;
pub mod demo;
pub mod dto;
pub mod routes;
pub mod service;
