//! Dates far in the future or past never panic (issue #15, item 5): every endpoint that takes a
//! date, in the query or the body, answers 422 `date_out_of_range` for one outside
//! 2000-01-01 ..= 2100-12-31, 422 `invalid_range` for a reversed or too long range — on a
//! connection that stays open for the next request — and changes nothing.
//!
//! Before the fix `?to=+262142-12-31` (chrono's last date; the day after it does not exist)
//! dropped the connection on complaints, stats, reports, events.csv and audit, and attendance
//! and notices answered 500.

use std::time::Duration;

use qhall_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Every query endpoint that reads `from`/`to`.
const RANGED: [&str; 12] = [
    "/api/v1/complaints",
    "/api/v1/stats",
    "/api/v1/stats/branches",
    "/api/v1/reports",
    "/api/v1/reports/service.csv",
    "/api/v1/reports/window.csv",
    "/api/v1/reports/staff.csv",
    "/api/v1/reports/hour.csv",
    "/api/v1/reports/events.csv",
    "/api/v1/audit",
    "/api/v1/attendance",
    "/api/v1/attendance.csv",
];

/// Dates chrono reads that lie outside the range: its last and first dates (`%2B` is `+`), a
/// four-digit year far ahead, and the days just past each end.
const FAR: [&str; 6] = [
    "%2B262142-12-31",
    "-262143-01-01",
    "9999-12-31",
    "2101-01-01",
    "1999-12-31",
    "0001-01-01",
];

/// One HTTP/1.1 connection kept alive across requests: a dropped connection shows up as an
/// error on the next request, which `reqwest` would hide by reconnecting.
struct Connection {
    reader: BufReader<TcpStream>,
    token: String,
}

impl Connection {
    async fn open(app: &TestApp, token: &str) -> Connection {
        let stream = TcpStream::connect(app.addr).await.unwrap();
        Connection {
            reader: BufReader::new(stream),
            token: token.to_owned(),
        }
    }

    /// Sends one request and reads its answer (status, JSON body or `Null`).
    async fn send(&mut self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body.as_bytes()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), self.answer())
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: no answer"))
            .unwrap_or_else(|e| panic!("{method} {path}: the connection failed: {e}"))
    }

    async fn answer(&mut self) -> std::io::Result<(u16, Value)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::other("connection closed by the server"));
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse::<usize>().ok();
            }
        }
        let length = length.ok_or_else(|| std::io::Error::other("no content-length"))?;
        let mut buf = vec![0; length];
        self.reader.read_exact(&mut buf).await?;
        Ok((status, serde_json::from_slice(&buf).unwrap_or(Value::Null)))
    }
}

/// Everything a refused request might have changed: notices, exceptions, the audit log.
async fn snapshot(app: &TestApp, manager: &str) -> Value {
    let config: Value = app
        .get("/api/v1/config", Some(manager))
        .await
        .json()
        .await
        .unwrap();
    let audit: Value = app
        .get("/api/v1/audit", Some(manager))
        .await
        .json()
        .await
        .unwrap();
    json!({"notices": config["notices"], "exceptions": config["exceptions"], "audit": audit})
}

fn expect(what: &str, got: (u16, Value), status: u16, code: &str) {
    let (got_status, body) = got;
    assert_eq!(got_status, status, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
}

#[tokio::test]
async fn far_dates_in_a_query_answer_422_on_a_connection_that_stays_open() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let before = snapshot(&app, &manager).await;
    let mut conn = Connection::open(&app, &manager).await;

    for path in RANGED {
        for far in FAR {
            for param in ["to", "from"] {
                let url = format!("{path}?{param}={far}");
                expect(
                    &url,
                    conn.send("GET", &url, None).await,
                    422,
                    "date_out_of_range",
                );
            }
            let url = format!("{path}?from=2026-01-01&to={far}");
            expect(
                &url,
                conn.send("GET", &url, None).await,
                422,
                "date_out_of_range",
            );
        }
        let url = format!("{path}?from=2026-02-01&to=2026-01-01");
        expect(
            &url,
            conn.send("GET", &url, None).await,
            422,
            "invalid_range",
        );
        // The same connection still answers.
        let (status, _) = conn.send("GET", "/healthz", None).await;
        assert_eq!(status, 200, "after {path}");
    }

    // Ranges longer than a year are refused where each day costs work; the ends of the
    // accepted range themselves are fine.
    for path in RANGED
        .iter()
        .filter(|p| !p.starts_with("/api/v1/complaints"))
    {
        let url = format!("{path}?from=2000-01-01&to=2100-12-31");
        expect(
            &url,
            conn.send("GET", &url, None).await,
            422,
            "invalid_range",
        );
    }
    for url in [
        "/api/v1/complaints?from=2000-01-01&to=2100-12-31",
        "/api/v1/stats?from=2100-12-31&to=2100-12-31",
        "/api/v1/audit?from=2000-01-01",
        "/api/v1/attendance?from=2100-01-01&to=2100-12-31",
    ] {
        let (status, body) = conn.send("GET", url, None).await;
        assert_eq!(status, 200, "{url}: {body}");
    }

    assert_eq!(snapshot(&app, &manager).await, before, "nothing changed");
}

#[tokio::test]
async fn far_dates_in_notices_and_exceptions_are_refused_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    // One notice to update.
    let r = app
        .post(
            "/api/v1/config/notices",
            Some(&manager),
            json!({"text": {"zh": "通知", "en": "A notice"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let before = snapshot(&app, &manager).await;
    let mut conn = Connection::open(&app, &manager).await;

    let far_days = ["+262142-12-31", "-262143-01-01", "9999-12-31", "1999-12-31"];
    let far_instants = [
        "+262142-12-31T23:59:59Z",
        "9999-12-31T00:00:00Z",
        "2101-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
    ];
    let mut bodies = Vec::new();
    for d in far_days {
        bodies.push(json!({"text": {"zh": "远"}, "from": d}));
        bodies.push(json!({"text": {"zh": "远"}, "until": d}));
    }
    for t in far_instants {
        bodies.push(json!({"text": {"zh": "远"}, "starts_at": t}));
        bodies.push(json!({"text": {"zh": "远"}, "ends_at": t}));
    }
    for body in &bodies {
        let got = conn
            .send("POST", "/api/v1/config/notices", Some(body))
            .await;
        expect(
            &format!("POST notice {body}"),
            got,
            422,
            "date_out_of_range",
        );
        let path = format!("/api/v1/config/notices/{id}");
        let got = conn.send("PUT", &path, Some(body)).await;
        expect(&format!("PUT notice {body}"), got, 422, "date_out_of_range");
    }
    for d in far_days {
        let path = format!("/api/v1/config/exceptions/{}", d.replace('+', "%2B"));
        let got = conn.send("PUT", &path, Some(&json!({"periods": []}))).await;
        expect(&format!("PUT {path}"), got, 422, "date_out_of_range");
        let got = conn.send("DELETE", &path, None).await;
        expect(&format!("DELETE {path}"), got, 422, "date_out_of_range");
    }
    let (status, _) = conn.send("GET", "/api/v1/config/notices", None).await;
    assert_eq!(status, 200, "the connection still works");

    assert_eq!(snapshot(&app, &manager).await, before, "nothing changed");

    // The ends of the range are accepted.
    let r = app
        .request(
            Method::PUT,
            "/api/v1/config/exceptions/2100-12-31",
            Some(&manager),
        )
        .json(&json!({"periods": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .post(
            "/api/v1/config/notices",
            Some(&manager),
            json!({"text": {"zh": "最后一天"}, "from": "2000-01-01", "until": "2100-12-31"}),
        )
        .await;
    assert_eq!(r.status(), 201);
}
