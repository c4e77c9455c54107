//! campaigns API tests.
