//! Every route × every role: the allowed ones work, the others answer 401 or 403.

use qhall_tests::{DISPLAY, KIOSK, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Nobody,
    BadToken,
    Kiosk,
    Display,
    Staff,
    Manager,
}

const ALL: [Who; 6] = [
    Who::Nobody,
    Who::BadToken,
    Who::Kiosk,
    Who::Display,
    Who::Staff,
    Who::Manager,
];

struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [Who],
}

fn routes() -> Vec<Route> {
    use Who::*;
    let r =
        |method: Method, path: &'static str, body: Option<Value>, allowed: &'static [Who]| Route {
            method,
            path,
            body,
            allowed,
        };
    vec![
        r(
            Method::GET,
            "/api/v1/services",
            None,
            &[Kiosk, Staff, Manager],
        ),
        r(
            Method::GET,
            "/api/v1/hall",
            None,
            &[Kiosk, Display, Staff, Manager],
        ),
        // Staff issue at the reception desk for a customer who cannot use the kiosk.
        r(
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"service": "A"})),
            &[Kiosk, Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/appointments/check-in",
            Some(json!({"code": "ZZZZZZZZZ"})),
            &[Kiosk, Staff, Manager],
        ),
        r(Method::GET, "/api/v1/appointments", None, &[Staff, Manager]),
        r(Method::GET, "/api/v1/windows", None, &[Staff, Manager]),
        r(Method::GET, "/api/v1/windows/1", None, &[Staff, Manager]),
        r(
            Method::GET,
            "/api/v1/windows/1/waiting",
            None,
            &[Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/windows/1/call-next",
            Some(json!({})),
            &[Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/windows/1/recall",
            Some(json!({})),
            &[Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/windows/1/start",
            Some(json!({})),
            &[Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/windows/1/complete",
            Some(json!({})),
            &[Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/windows/1/pause",
            Some(json!({"reason": "tea"})),
            &[Staff, Manager],
        ),
        r(
            Method::POST,
            "/api/v1/windows/1/resume",
            Some(json!({})),
            &[Staff, Manager],
        ),
        r(
            Method::GET,
            "/api/v1/windows/1/rating",
            None,
            // Only window 1's pad (tests/tests/rating_pads.rs).
            &[],
        ),
        r(
            Method::POST,
            "/api/v1/complaints",
            Some(json!({"window": 1, "category": "other", "description": "x"})),
            &[Staff, Manager],
        ),
        r(Method::GET, "/api/v1/stats", None, &[Manager]),
        r(Method::GET, "/api/v1/reports", None, &[Manager]),
        r(Method::GET, "/api/v1/audit", None, &[Manager]),
        r(Method::DELETE, "/api/v1/emergency", None, &[Manager]),
        r(Method::GET, "/api/v1/reports/hour.csv", None, &[Manager]),
        r(Method::GET, "/api/v1/reports/events.csv", None, &[Manager]),
        r(
            Method::POST,
            "/api/v1/staffing/erlang-c",
            Some(
                json!({"arrivals_per_hour": 60, "mean_service_secs": 360, "target_wait_secs": 900, "goal": 0.8}),
            ),
            &[Manager],
        ),
        r(Method::GET, "/api/v1/simulate/baseline", None, &[Manager]),
        r(Method::GET, "/api/v1/forecast", None, &[Manager]),
        r(
            Method::POST,
            "/api/v1/simulate",
            Some(json!({"scenario": {
                "name": "tiny",
                "service": [{"code": "A", "mean_service_min": 5.0, "target_wait_min": 10.0}],
                "window": [{"number": 1, "serves": ["A"]}],
                "hours": {"open": [["09:00", "10:00"]]},
                "arrivals": [{"per_hour": {"A": 6.0}}]
            }, "days": 2})),
            &[Manager],
        ),
        // The manager's pages: live, staffing, complaints register, attendance, settings.
        // Bodies that cannot change the demo hall (unknown ids, or refused as invalid), so a
        // manager's call only shows that the role is let through.
        r(Method::GET, "/api/v1/live", None, &[Manager]),
        r(
            Method::PUT,
            "/api/v1/live/alerts",
            Some(json!({"warn_percent": 0, "per_window": 0})),
            &[Manager],
        ),
        r(Method::GET, "/api/v1/staffing/advice", None, &[Manager]),
        r(Method::GET, "/api/v1/stats/branches", None, &[Manager]),
        r(Method::GET, "/api/v1/complaints", None, &[Manager]),
        r(Method::GET, "/api/v1/complaints/999", None, &[Manager]),
        r(
            Method::POST,
            "/api/v1/complaints/999/assign",
            Some(json!({"user": 999})),
            &[Manager],
        ),
        r(
            Method::POST,
            "/api/v1/complaints/999/notes",
            Some(json!({"note": "x"})),
            &[Manager],
        ),
        r(
            Method::POST,
            "/api/v1/complaints/999/contact",
            Some(json!({})),
            &[Manager],
        ),
        r(
            Method::GET,
            "/api/v1/complaints/retention",
            None,
            &[Manager],
        ),
        r(
            Method::PUT,
            "/api/v1/complaints/retention",
            Some(json!({"days": 0})),
            &[Manager],
        ),
        r(Method::GET, "/api/v1/attendance", None, &[Manager]),
        r(Method::GET, "/api/v1/attendance.csv", None, &[Manager]),
        r(Method::GET, "/api/v1/attendance/settings", None, &[Manager]),
        r(
            Method::PUT,
            "/api/v1/attendance/settings",
            Some(json!({"late_mins": 999, "early_mins": 999, "long_pause_mins": 999})),
            &[Manager],
        ),
        r(Method::GET, "/api/v1/config", None, &[Manager]),
        r(
            Method::POST,
            "/api/v1/config/services",
            Some(json!({"code": "AB"})),
            &[Manager],
        ),
        r(Method::GET, "/api/v1/config/services/Z", None, &[Manager]),
        r(
            Method::PUT,
            "/api/v1/config/services/Z",
            Some(json!({})),
            &[Manager],
        ),
        r(
            Method::DELETE,
            "/api/v1/config/services/Z",
            None,
            &[Manager],
        ),
        r(
            Method::POST,
            "/api/v1/config/windows",
            Some(json!({"number": 0})),
            &[Manager],
        ),
        r(
            Method::PUT,
            "/api/v1/config/windows/99",
            Some(json!({})),
            &[Manager],
        ),
        r(
            Method::PUT,
            "/api/v1/config/hours",
            Some(json!({"time_zone": "Nowhere/Else"})),
            &[Manager],
        ),
        r(
            Method::PUT,
            "/api/v1/config/exceptions/not-a-date",
            Some(json!({})),
            &[Manager],
        ),
        r(
            Method::DELETE,
            "/api/v1/config/exceptions/1999-01-01",
            None,
            &[Manager],
        ),
        r(Method::GET, "/api/v1/config/notices", None, &[Manager]),
        r(
            Method::POST,
            "/api/v1/config/notices",
            Some(json!({})),
            &[Manager],
        ),
        r(
            Method::PUT,
            "/api/v1/config/notices/999",
            Some(json!({})),
            &[Manager],
        ),
        r(
            Method::DELETE,
            "/api/v1/config/notices/999",
            None,
            &[Manager],
        ),
        r(Method::GET, "/api/v1/users", None, &[Manager]),
        r(Method::POST, "/api/v1/users", Some(json!({})), &[Manager]),
        r(Method::DELETE, "/api/v1/users/999", None, &[Manager]),
        r(
            Method::POST,
            "/api/v1/users/999/password",
            Some(json!({"password": "long enough password"})),
            &[Manager],
        ),
        r(Method::GET, "/api/v1/devices", None, &[Manager]),
        r(Method::POST, "/api/v1/devices", Some(json!({})), &[Manager]),
        r(Method::DELETE, "/api/v1/devices/999", None, &[Manager]),
        r(
            Method::PUT,
            "/api/v1/devices/me/state",
            Some(json!({"printer": "ok"})),
            &[Kiosk, Display],
        ),
    ]
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_protocol_says() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    let manager = app.login("manager").await;
    app.sign_in(1, &staff).await;
    let token = |w: Who| -> Option<String> {
        match w {
            Who::Nobody => None,
            Who::BadToken => Some("not-a-token".into()),
            Who::Kiosk => Some(KIOSK.into()),
            Who::Display => Some(DISPLAY.into()),
            Who::Staff => Some(staff.clone()),
            Who::Manager => Some(manager.clone()),
        }
    };
    let mut failures = Vec::new();
    for route in routes() {
        for who in ALL {
            let mut req = app.request(route.method.clone(), route.path, token(who).as_deref());
            if let Some(b) = &route.body {
                req = req.json(b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let ok = if route.allowed.contains(&who) {
                // Allowed: not refused for who the caller is (the state may still say no).
                status != 401 && status != 403 && status < 500
            } else {
                let expected = if matches!(who, Who::Nobody | Who::BadToken) {
                    401
                } else {
                    403
                };
                status == expected && body["error"]["code"].is_string()
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {who:?}: {status} {body}",
                    route.method, route.path
                ));
            }
        }
    }
    // Staff of another window may not operate window 1.
    let other = app.login("staff2").await;
    let r = app.window(1, "call-next", &other).await;
    if r.status() != 403 {
        failures.push(format!("staff2 on window 1: {}", r.status()));
    }
    // Logout needs no role (it only ends the session it is given), and ends it at once.
    let r = app.post("/api/v1/logout", Some(&staff), json!({})).await;
    assert_eq!(r.status(), 204);
    let r = app.get("/api/v1/windows", Some(&staff)).await;
    assert_eq!(r.status(), 401, "a logged-out token no longer works");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
