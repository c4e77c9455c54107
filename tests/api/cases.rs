//! cases API tests.
