//! Coverage against 应建尽建 and the data ledgers (数据台账): which units are
//! required to have mass organizations, which are covered, the township's worklist
//! of gaps, and the unit ledger as CSV and XLSX.
pub mod dto;
pub mod routes;
pub mod service;
