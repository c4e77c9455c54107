//! People: profiles, export and anonymisation.
pub mod dto;
pub mod routes;
pub mod service;
