//! Request and response types of the audit viewer, and the parse-at-the-edge
//! filters (`action`, `target`, `from`, `to`).
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};

/// `?region_id=&actor_id=&action=&target=&from=&to=` of the list and the CSV.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilterQuery {
    /// Only entries of this region's subtree (a region the caller administers or
    /// one below it). Without it: every region the caller administers.
    pub region_id: Option<i64>,
    /// Only entries by this person (user id).
    pub actor_id: Option<i64>,
    /// Only this action (`role.grant`), or, ending in `.`, every action that
    /// starts so (`role.` for `role.grant` and `role.revoke`).
    #[param(example = "role.")]
    pub action: Option<String>,
    /// Only entries about this target, exactly (`user:5`, `case:12`).
    #[param(example = "user:5")]
    pub target: Option<String>,
    /// At or after (inclusive): an RFC 3339 instant (`2026-12-01T08:00:00Z`), or
    /// a date `YYYY-MM-DD`, meaning 00:00 of that day in Asia/Shanghai.
    #[param(example = "2026-12-01")]
    pub from: Option<String>,
    /// Before (exclusive): an RFC 3339 instant, or a date `YYYY-MM-DD`, meaning
    /// through the end of that day in Asia/Shanghai (before 00:00 of the next).
    #[param(example = "2026-12-31")]
    pub to: Option<String>,
}

/// The list's query: the filters of [`AuditFilterQuery`] and `?limit=&cursor=`
/// (spelled out: `serde(flatten)` breaks numbers in query strings).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Only entries of this region's subtree (a region the caller administers or
    /// one below it). Without it: every region the caller administers.
    pub region_id: Option<i64>,
    /// Only entries by this person (user id).
    pub actor_id: Option<i64>,
    /// Only this action (`role.grant`), or, ending in `.`, every action that
    /// starts so (`role.` for `role.grant` and `role.revoke`).
    #[param(example = "role.")]
    pub action: Option<String>,
    /// Only entries about this target, exactly (`user:5`, `case:12`).
    #[param(example = "user:5")]
    pub target: Option<String>,
    /// At or after (inclusive): an RFC 3339 instant (`2026-12-01T08:00:00Z`), or
    /// a date `YYYY-MM-DD`, meaning 00:00 of that day in Asia/Shanghai.
    #[param(example = "2026-12-01")]
    pub from: Option<String>,
    /// Before (exclusive): an RFC 3339 instant, or a date `YYYY-MM-DD`, meaning
    /// through the end of that day in Asia/Shanghai (before 00:00 of the next).
    #[param(example = "2026-12-31")]
    pub to: Option<String>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditListQuery {
    /// The filters alone.
    pub fn filter(&self) -> AuditFilterQuery {
        AuditFilterQuery {
            region_id: self.region_id,
            actor_id: self.actor_id,
            action: self.action.clone(),
            target: self.target.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// One audit entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Id (entries are numbered in the order they were written).
    pub id: i64,
    /// Who acted; null for the command line (`qunjia grant`).
    pub actor_id: Option<i64>,
    /// Their name today; null when unknown, not given or anonymised.
    pub actor_name: Option<String>,
    /// What was done, e.g. `role.grant`, `case.read`.
    #[schema(example = "role.grant")]
    pub action: String,
    /// What it was done to, e.g. `user:5`.
    #[schema(example = "user:5")]
    pub target: String,
    /// The region the target belongs to; null for entries of no region.
    pub region_id: Option<i64>,
    /// The client's address.
    pub ip: Option<String>,
    /// Extra facts as JSON; null when none.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    /// When (RFC 3339, UTC).
    #[schema(example = "2026-12-01T08:30:00Z")]
    pub at: String,
}

/// How `action` narrows the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    /// This action only.
    Exact(String),
    /// Every action starting with this (which ends in `.`).
    Prefix(String),
}

impl ActionFilter {
    /// Lower-case letters, digits, `_` and `.`, up to 64 (the column's width);
    /// a trailing `.` makes it a prefix.
    pub fn parse(raw: &str) -> AppResult<ActionFilter> {
        let s = raw.trim();
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
            && !s.starts_with('.');
        if !ok {
            return Err(AppError::bad_request(
                "action（操作）应为如 role.grant 的操作名，或以 . 结尾的前缀如 role.",
            ));
        }
        Ok(if s.ends_with('.') {
            ActionFilter::Prefix(s.to_owned())
        } else {
            ActionFilter::Exact(s.to_owned())
        })
    }
}

/// `target`: up to 128 characters (the column's width), compared exactly.
pub fn parse_target(raw: &str) -> AppResult<String> {
    let s = raw.trim();
    if s.chars().count() > 128 {
        return Err(AppError::bad_request("target（对象）不能超过128个字符"));
    }
    Ok(s.to_owned())
}

/// Which end of the span a bound is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `from`: at or after.
    From,
    /// `to`: before.
    To,
}

impl Bound {
    fn field(self) -> &'static str {
        match self {
            Bound::From => "from（开始时间）",
            Bound::To => "to（结束时间）",
        }
    }
}

/// Eight hours: Asia/Shanghai has no daylight saving.
const SHANGHAI_OFFSET_MS: i64 = 8 * 3600 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// `from` or `to` as epoch milliseconds: an RFC 3339 instant, or a date
/// `YYYY-MM-DD` in Asia/Shanghai (`from` its first instant, `to` the first
/// instant of the next day, so that `from=D&to=D` is that whole day).
pub fn parse_bound(raw: &str, bound: Bound) -> AppResult<i64> {
    let s = raw.trim();
    let bad = || {
        AppError::bad_request(format!(
            "{}应为 RFC 3339 时间（如 2026-12-01T08:00:00Z）或日期（如 2026-12-01）",
            bound.field()
        ))
    };
    if s.len() == 10 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
        let midnight = d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?
            .and_utc()
            .timestamp_millis()
            - SHANGHAI_OFFSET_MS;
        return Ok(match bound {
            Bound::From => midnight,
            Bound::To => midnight + DAY_MS,
        });
    }
    crate::clock::parse_rfc3339_ms(s).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_exact_or_a_prefix_ending_in_a_dot() {
        assert_eq!(
            ActionFilter::parse("role.grant").ok(),
            Some(ActionFilter::Exact("role.grant".into()))
        );
        assert_eq!(
            ActionFilter::parse(" role. ").ok(),
            Some(ActionFilter::Prefix("role.".into()))
        );
        for bad in [
            "",
            ".",
            ".x",
            "Role.grant",
            "role grant",
            "role%",
            "角色",
            &"a".repeat(65),
        ] {
            assert!(ActionFilter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_read_instants_and_shanghai_dates() {
        assert_eq!(
            parse_bound("1970-01-01T08:00:00+08:00", Bound::From).ok(),
            Some(0)
        );
        // 2026-12-01 00:00 in Shanghai is 2026-11-30 16:00 UTC.
        let start = crate::clock::parse_rfc3339_ms("2026-11-30T16:00:00Z").unwrap_or_default();
        assert_eq!(parse_bound("2026-12-01", Bound::From).ok(), Some(start));
        assert_eq!(
            parse_bound("2026-12-01", Bound::To).ok(),
            Some(start + DAY_MS)
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-1-1",
            "1733040000",
        ] {
            assert!(parse_bound(bad, Bound::To).is_err(), "{bad}");
        }
    }
}
