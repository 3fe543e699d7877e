//! Fresh PostgreSQL databases, one per test: created on the server at `QHALL_TEST_POSTGRES_URL`
//! and dropped with their guard; without a reachable server the test is skipped, not failed.

use std::time::Duration;

/// The PostgreSQL server the tests use (`QHALL_TEST_POSTGRES_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("QHALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database, dropped when this goes out of scope.
#[derive(Debug)]
pub struct PgDatabase {
    /// `postgres://…/qhall_t_<random>`
    pub url: String,
    name: String,
    admin: String,
}

/// Creates a fresh database `qhall_t_<random>`; `None` (after printing `SKIPPED: …`) when no
/// PostgreSQL server is reachable.
pub async fn pg_database() -> Option<PgDatabase> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let admin = postgres_admin_url();
    let opts: sqlx::postgres::PgConnectOptions = match admin.parse() {
        Ok(o) => o,
        Err(e) => panic!("QHALL_TEST_POSTGRES_URL is not a PostgreSQL URL: {e}"),
    };
    let connected = tokio::time::timeout(Duration::from_secs(5), opts.connect()).await;
    let mut conn = match connected {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            println!("SKIPPED: PostgreSQL not reachable at {admin}: {e}");
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin}: {e}");
            return None;
        }
        Err(_) => {
            println!("SKIPPED: PostgreSQL not reachable at {admin}: no answer in 5 s");
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin}: no answer in 5 s");
            return None;
        }
    };
    let name = format!("qhall_t_{:016x}", rand_u64());
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let url = match admin.rfind('/') {
        Some(i) if admin[..i].contains("://") && i > admin.find("://").unwrap_or(0) + 2 => {
            let rest = &admin[i + 1..];
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{}/{name}{query}", &admin[..i])
        }
        _ => format!("{admin}/{name}"),
    };
    Some(PgDatabase { url, name, admin })
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::{ConnectOptions, Connection, Executor};
                let Ok(opts) = admin.parse::<sqlx::postgres::PgConnectOptions>() else {
                    return;
                };
                if let Ok(mut c) = opts.connect().await {
                    let _ = c
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}
