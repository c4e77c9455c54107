//! Lists as API.md says: `{"items", "next_cursor"}`, `?limit=` (default 20, max 100), `?cursor=`.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};

/// A page of items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A checked `limit` and `cursor` (keyset pagination on an increasing id).
pub struct PageQuery {
    /// Items per page.
    pub limit: u64,
    /// Items after this id.
    pub after: Option<i64>,
}

impl PageQuery {
    /// Validates the query values (400 when out of range or malformed).
    pub fn new(limit: Option<u64>, cursor: Option<&str>) -> AppResult<PageQuery> {
        let limit = limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(AppError::bad_request("limit 应在1到100之间"));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| AppError::bad_request("cursor 不正确"))?,
            ),
        };
        Ok(PageQuery { limit, after })
    }

    /// Builds the page from up to `limit + 1` rows fetched in id order.
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        id: impl Fn(&R) -> i64,
        map: impl Fn(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}
