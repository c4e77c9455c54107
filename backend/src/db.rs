//! Database connection for both engines.
//!
//! SQLite: one connection in WAL mode with `synchronous=NORMAL` and a busy timeout.
//! A single connection serialises every statement inside this process, so a
//! transaction that reads and then writes can never meet another writer's lock
//! (`database is locked` is impossible from within), while the busy timeout covers
//! other processes such as `qunjia grant` run beside the server.
//! PostgreSQL: an ordinary pool.
//!
//! Beside the writer, a server opens [`connect_readers`]: on SQLite a pool of
//! read-only connections (WAL lets them read while the writer writes, each from the
//! last commit), on PostgreSQL the same pool again. Requests that only read use it;
//! anything that writes, and every read after a write in the same request, uses the
//! writer.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::LikeExpr;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    Statement, Value,
};

use crate::config::Settings;

/// Opens the database named by the settings (creating the SQLite folder) and migrates it.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = &settings.database_url;
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_parent_dir(url) {
            std::fs::create_dir_all(&dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
            .acquire_timeout(Duration::from_secs(30))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
    } else {
        opts.max_connections(settings.db_max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10));
    }
    let db = Database::connect(opts).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// The handle for reads that need not follow a write of the same request.
///
/// SQLite: `settings.db_readers` read-only connections (`SQLITE_OPEN_READONLY` and
/// `PRAGMA query_only`, so a write sent here fails instead of taking the write lock),
/// opened after `writer` has migrated the file and switched it to WAL; each keeps its
/// own statement cache for its whole life. With `db_readers = 0` or an in-memory
/// database, the writer itself. PostgreSQL: the writer's pool, cloned.
pub async fn connect_readers(
    settings: &Settings,
    writer: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    let url = &settings.database_url;
    if writer.get_database_backend() != DatabaseBackend::Sqlite
        || settings.db_readers == 0
        || url.contains(":memory:")
        || url.contains("mode=memory")
    {
        return Ok(writer.clone());
    }
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .max_connections(settings.db_readers)
        .min_connections(1)
        .idle_timeout(None::<Duration>)
        .max_lifetime(None::<Duration>)
        .acquire_timeout(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|o| {
            o.read_only(true)
                .create_if_missing(false)
                .pragma("query_only", "ON")
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(opts).await
}

/// Readers a SQLite server opens by default: one per core, at least 2, at most 8.
pub fn default_readers() -> u32 {
    std::thread::available_parallelism()
        .map_or(2, |n| u32::try_from(n.get()).unwrap_or(8))
        .clamp(2, 8)
}

fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Into::into)
}

/// Builds a statement from SQL written with `?` placeholders, numbering them
/// `$1, $2…` for PostgreSQL. Only for the few atomic upserts the ORM cannot say.
pub fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Escapes `%`, `_` and `\` so that text matches only itself in `LIKE … ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// `LIKE '%text%' ESCAPE '\'`: the column contains `text`.
pub fn like_contains(text: &str) -> LikeExpr {
    LikeExpr::new(contains_pattern(text)).escape('\\')
}

/// The pattern of [`like_contains`].
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", like_escape(text))
}

/// `LIKE 'prefix%' ESCAPE '\'`: the column starts with `prefix`, e.g. with a
/// region's materialised path `/1/5/40/` for every region of its subtree.
pub fn like_prefix(prefix: &str) -> LikeExpr {
    LikeExpr::new(prefix_pattern(prefix)).escape('\\')
}

/// The pattern of [`like_prefix`], for SQL written `LIKE ? ESCAPE '\'`.
pub fn prefix_pattern(prefix: &str) -> String {
    format!("{}%", like_escape(prefix))
}

/// Checks the database answers (for `/health`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered() {
        let s = stmt(
            DatabaseBackend::Postgres,
            "a = ? AND b = ?",
            vec![1.into(), 2.into()],
        );
        assert_eq!(s.sql, "a = $1 AND b = $2");
        let s = stmt(DatabaseBackend::Sqlite, "a = ?", vec![1.into()]);
        assert_eq!(s.sql, "a = ?");
    }

    #[test]
    fn like_wildcards_and_the_escape_are_escaped() {
        assert_eq!(like_escape("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_escape("/1/5/40/"), "/1/5/40/");
        assert_eq!(contains_pattern("a%b_c"), "%a\\%b\\_c%");
        assert_eq!(prefix_pattern("/1/_5/"), "/1/\\_5/%");
        use sea_orm::sea_query::{Expr, ExprTrait, Query, SqliteQueryBuilder};
        let contains = Query::select()
            .expr(Expr::val("x").like(like_contains("50%")))
            .to_string(SqliteQueryBuilder);
        assert!(
            contains.ends_with(r"LIKE '%50\%%' ESCAPE '\'"),
            "{contains}"
        );
    }

    #[test]
    fn sqlite_folder_is_found() {
        assert_eq!(
            sqlite_parent_dir("sqlite://data/q.db?mode=rwc"),
            Some("data".into())
        );
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
    }
}
