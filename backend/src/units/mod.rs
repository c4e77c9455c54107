//! Units (非公企业与社会组织): the register kept by region admins, its bulk
//! import from CSV/XLSX, and the look-up workers use to pick their workplace.
pub mod dto;
pub mod import;
pub mod routes;
pub mod service;
pub mod uscc;

pub use routes::config;
