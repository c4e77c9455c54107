//! services API tests.
