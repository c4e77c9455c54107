//! The retention settings of the housekeeping sweep, as the binary reads them.
use super::*;

#[test]
fn serve_refuses_to_start_when_a_retention_is_zero_or_revoked_tokens_are_kept_too_short() {
    let case = Case::new();
    for (var, value) in [
        ("QUNJIA_RETENTION_OTP_DAYS", "0"),
        ("QUNJIA_RETENTION_REFRESH_REVOKED_DAYS", "10"),
        ("QUNJIA_RETENTION_CHECKIN_FAILURE_DAYS", "soon"),
        ("QUNJIA_HOUSEKEEPING_INTERVAL_MS", "0"),
    ] {
        let out = case
            .qunjia()
            .env(var, value)
            .arg("serve")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert!(err.contains(var), "{err}");
    }
    let out = case
        .qunjia()
        .env("QUNJIA_RETENTION_REFRESH_REVOKED_DAYS", "45")
        .env("QUNJIA_RETENTION_OTP_DAYS", "3")
        .arg("migrate")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
