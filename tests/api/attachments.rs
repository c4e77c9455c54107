//! attachments API tests.
