//! The database's floor: one-row insert transactions through sqlx (the servers' driver) on the
//! same database, as many connections as the kiosks' load has.

use std::time::{Duration, Instant};

use crate::report::percentile;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    pub(crate) rate: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Floor {
    pub(crate) transaction: Rate,
    pub(crate) autocommit: Rate,
}

/// One-row insert transactions through sqlx on the same database, `conns` connections flat out
/// for `secs` each: `BEGIN; INSERT; COMMIT` (the shape of a server's write), then a lone
/// autocommitted `INSERT`.
pub(crate) async fn floor(url: &str, conns: usize, secs: u64) -> anyhow::Result<Floor> {
    let pool = pool_with_table(url, conns, "city_floor").await?;
    let mut rates = Vec::new();
    for explicit in [true, false] {
        let stop = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..conns {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut conn = pool.acquire().await?;
                while Instant::now() < stop {
                    let t = Instant::now();
                    let insert = sqlx::query(
                        "INSERT INTO city_floor (branch, at, body) VALUES ($1, $2, $3)",
                    )
                    .bind(i64::try_from(c)?)
                    .bind(i64::try_from(lat.len())?)
                    .bind("{\"type\":\"issued\",\"service\":\"A\",\"waiting\":1}");
                    if explicit {
                        use sqlx::Connection;
                        let mut tx = conn.begin().await?;
                        insert.execute(&mut *tx).await?;
                        tx.commit().await?;
                    } else {
                        insert.execute(&mut *conn).await?;
                    }
                    lat.push(t.elapsed());
                }
                anyhow::Ok(lat)
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        lat.sort();
        rates.push(Rate {
            rate: lat.len() as f64 / elapsed,
            p50: percentile(&lat, 0.5),
            p99: percentile(&lat, 0.99),
        });
    }
    sqlx::raw_sql("DROP TABLE city_floor")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(Floor {
        transaction: rates[0],
        autocommit: rates[1],
    })
}

/// `conns` connections to `url` with `synchronous_commit = off`, as the servers commit, and a
/// fresh one-row-a-ticket table `table` (`branch`, `at`, `body`) for them to insert into.
pub(crate) async fn pool_with_table(
    url: &str,
    conns: usize,
    table: &str,
) -> anyhow::Result<sqlx::PgPool> {
    use std::str::FromStr;
    let opts =
        sqlx::postgres::PgConnectOptions::from_str(url)?.options([("synchronous_commit", "off")]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(u32::try_from(conns)?)
        .min_connections(u32::try_from(conns)?)
        .connect_with(opts)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {table} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         branch BIGINT NOT NULL, at BIGINT NOT NULL, body TEXT NOT NULL)"
    )))
    .execute(&pool)
    .await?;
    Ok(pool)
}
