//! SQL straight to a test database, on either backend (chosen from the URL's scheme): for setting
//! up what the API cannot, and for reading back what the API does not show.

use std::time::Duration;

/// Runs SQL statements on the database at `url` (either backend), then bumps every branch's
/// `config_version` so running servers reload their configuration. The statements may be
/// literals or built strings.
pub async fn run_sql(url: &str, statements: &[impl AsRef<str>]) {
    use sqlx::{ConnectOptions, Connection};
    if url.starts_with("postgres") {
        let opts: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
        let mut conn = opts.connect().await.expect("open db");
        let mut tx = conn.begin().await.expect("begin");
        for s in statements.iter().map(AsRef::as_ref) {
            sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        sqlx::query("UPDATE branches SET config_version = config_version + 1")
            .execute(&mut *tx)
            .await
            .expect("bump");
        tx.commit().await.expect("commit");
        return;
    }
    let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
    let mut conn = opts
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("open db");
    for s in statements.iter().map(AsRef::as_ref) {
        sqlx::query(sqlx::AssertSqlSafe(s))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    sqlx::query("UPDATE branches SET config_version = config_version + 1")
        .execute(&mut conn)
        .await
        .expect("bump");
}

/// One text column of every row `sql` returns, from the database at `url` (either backend;
/// SQLite opened read-only), for checking what the server wrote.
pub async fn query_texts(url: &str, sql: &str) -> Vec<String> {
    use sqlx::ConnectOptions;
    if url.starts_with("postgres") {
        let opts: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
        let mut c = opts.connect().await.expect("open db");
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut c)
            .await
            .expect(sql)
    } else {
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
        let mut c = opts.read_only(true).connect().await.expect("open db");
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut c)
            .await
            .expect(sql)
    }
}
