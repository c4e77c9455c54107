//! Shared party-mass centres (党群活动中心), the activities organizations hold in
//! them, sign-ups with a capacity that never overbooks, and attendance.
pub mod access;
pub mod attendance;
pub mod centres;
pub mod demo;
pub mod dto;
pub mod routes;
pub mod service;
pub mod signups;
