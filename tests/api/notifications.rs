//! notifications API tests.
