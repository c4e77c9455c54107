//! The service catalogue of each organization (法律援助, 心理疏导, 创业就业, 婚恋交友, 困难帮扶, 维权).
pub mod dto;
pub mod routes;
pub mod service;
