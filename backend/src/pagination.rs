//! Lists as API.md says: `{"items", "next_cursor"}`, `?limit=` (default 20, max 100), `?cursor=`.
//! Keyset pagination: fetch one row past the page (`limit + 1`) to learn whether
//! another page follows, then cut it off.
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};

/// A page of items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=`: the query of a list with no filters of its own.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
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

    /// Rows to fetch: one past the page.
    pub fn fetch(&self) -> u64 {
        self.limit + 1
    }

    /// Oldest first: `id > cursor ORDER BY id LIMIT limit + 1`.
    pub fn ascending<Q, C>(&self, query: Q, id: C) -> Q
    where
        Q: QueryFilter + QueryOrder + QuerySelect,
        C: ColumnTrait + Copy,
    {
        let query = match self.after {
            Some(after) => query.filter(id.gt(after)),
            None => query,
        };
        query.order_by_asc(id).limit(self.fetch())
    }

    /// Newest first, the cursor meaning "ids below this":
    /// `id < cursor ORDER BY id DESC LIMIT limit + 1`.
    pub fn descending<Q, C>(&self, query: Q, id: C) -> Q
    where
        Q: QueryFilter + QueryOrder + QuerySelect,
        C: ColumnTrait + Copy,
    {
        let query = match self.after {
            Some(before) => query.filter(id.lt(before)),
            None => query,
        };
        query.order_by_desc(id).limit(self.fetch())
    }

    /// Builds the page from up to `limit + 1` rows fetched in id order.
    pub fn finish<R, T>(
        &self,
        rows: Vec<R>,
        id: impl Fn(&R) -> i64,
        map: impl Fn(R) -> T,
    ) -> Page<T> {
        self.finish_by(rows, |r| id(r).to_string(), map)
    }

    /// [`PageQuery::finish`] for a list whose cursor is not the id alone
    /// (`cursor` makes it from the last row of the page).
    pub fn finish_by<R, T>(
        &self,
        mut rows: Vec<R>,
        cursor: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more { rows.last().map(cursor) } else { None };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, EntityTrait, QueryTrait};

    use super::*;
    use crate::entity::regions;

    fn page(limit: u64, cursor: &str) -> PageQuery {
        PageQuery::new(Some(limit), Some(cursor)).expect("page")
    }

    #[test]
    fn keyset_selects_fetch_one_row_past_the_page() {
        let sql = |q: sea_orm::Select<regions::Entity>| q.build(DbBackend::Sqlite).to_string();
        let asc = sql(page(2, "7").ascending(regions::Entity::find(), regions::Column::Id));
        assert!(
            asc.ends_with(r#"WHERE "regions"."id" > 7 ORDER BY "regions"."id" ASC LIMIT 3"#),
            "{asc}"
        );
        let desc = sql(page(2, "7").descending(regions::Entity::find(), regions::Column::Id));
        assert!(
            desc.ends_with(r#"WHERE "regions"."id" < 7 ORDER BY "regions"."id" DESC LIMIT 3"#),
            "{desc}"
        );
        let first = sql(page(20, "").ascending(regions::Entity::find(), regions::Column::Id));
        assert!(
            first.ends_with(r#"FROM "regions" ORDER BY "regions"."id" ASC LIMIT 21"#),
            "{first}"
        );
    }

    #[test]
    fn finish_cuts_the_extra_row_and_points_the_cursor_at_the_last_kept_one() {
        let p = page(2, "");
        let more = p.finish(vec![1, 2, 3], |r| *r, |r| r * 10);
        assert_eq!(
            (more.items, more.next_cursor.as_deref()),
            (vec![10, 20], Some("2"))
        );
        let last = p.finish(vec![1, 2], |r| *r, |r| r);
        assert_eq!((last.items, last.next_cursor), (vec![1, 2], None));
        let by = p.finish_by(
            vec![(5, 1), (5, 2), (6, 3)],
            |r| format!("{}_{}", r.0, r.1),
            |r| r,
        );
        assert_eq!(by.next_cursor.as_deref(), Some("5_2"));
    }
}
