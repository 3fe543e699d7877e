//! The load: kiosks issuing at a compressed weekday peak, staff calling at every window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::{Mutex, mpsc, watch};

use crate::Settings;
use crate::api::Api;
use crate::seed::{Branch, Staff};

/// Tries of one ticket (the same Idempotency-Key), like the kiosk's bounded retries.
const TRIES: usize = 3;

/// The offered rate at `x` (0–1) of the run, as a share of the peak: a weekday morning.
pub(crate) fn profile(x: f64) -> f64 {
    if x < 0.25 {
        0.2 + 0.8 * x / 0.25
    } else if x < 0.75 {
        1.0
    } else {
        1.0 - 0.6 * (x - 0.75) / 0.25
    }
}

/// One arrival at a kiosk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    pub(crate) due: Instant,
    pub(crate) branch: usize,
    pub(crate) service: &'static str,
    pub(crate) n: u64,
}

/// An acknowledged ticket.
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) branch: usize,
    pub(crate) id: String,
    pub(crate) due: Instant,
    pub(crate) sent: Instant,
    pub(crate) done: Instant,
}

/// A call-next answered with a ticket.
#[derive(Debug)]
pub(crate) struct Called {
    pub(crate) branch: usize,
    pub(crate) number: String,
    pub(crate) server: usize,
    pub(crate) sent: Instant,
    pub(crate) done: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Load {
    pub(crate) started: Option<Instant>,
    /// Due instants of every arrival offered.
    pub(crate) offered: Vec<Instant>,
    pub(crate) issued: Vec<Issued>,
    /// Requests that never got a ticket after every try, by branch index, with why.
    pub(crate) failed: Vec<(usize, String)>,
    /// Tries beyond the first that were needed.
    pub(crate) retries: u64,
    /// Arrivals still waiting for an issuing connection when the run ended.
    pub(crate) unsent: u64,
    pub(crate) calls: Vec<Called>,
    pub(crate) completes: Vec<Duration>,
    pub(crate) nothing_waiting: u64,
    pub(crate) staff_errors: Vec<String>,
}

pub(crate) async fn load(
    api: &Api,
    s: &Settings,
    branches: &[Branch],
    staff: &[Staff],
    peak: f64,
) -> anyhow::Result<Load> {
    let run = Duration::from_secs(s.secs);
    let started = Instant::now();
    let end = started + run;
    let (stop_tx, stop_rx) = watch::channel(false);

    // Arrivals: a thread releases each at its due instant (tokio's timer wheel would round
    // them to whole milliseconds and bunch them).
    let (arrive_tx, arrive_rx) = mpsc::unbounded_channel::<Arrival>();
    let weights: Vec<f64> = branches.iter().map(|b| b.weight).collect();
    let total_peak = peak * weights.iter().sum::<f64>();
    let generator = std::thread::spawn(move || {
        let mut rng = StdRng::seed_from_u64(15);
        let mut cumulative = Vec::with_capacity(weights.len());
        let mut sum = 0.0;
        for w in &weights {
            sum += w;
            cumulative.push(sum);
        }
        let mut offered = Vec::new();
        let mut t = 0.0_f64;
        let secs = run.as_secs_f64();
        loop {
            let rate = total_peak * profile(t / secs);
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            t += -u.ln() / rate.max(1e-9);
            if t >= secs {
                break;
            }
            let due = started + Duration::from_secs_f64(t);
            let pick = rng.random::<f64>() * sum;
            let branch = cumulative
                .partition_point(|c| *c < pick)
                .min(weights.len() - 1);
            let service = if rng.random::<f64>() < 0.7 { "A" } else { "B" };
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let n = offered.len() as u64;
            offered.push(due);
            if arrive_tx
                .send(Arrival {
                    due,
                    branch,
                    service,
                    n,
                })
                .is_err()
            {
                break;
            }
        }
        offered
    });

    let arrive_rx = Arc::new(Mutex::new(arrive_rx));
    let kiosks: Arc<Vec<String>> = Arc::new(branches.iter().map(|b| b.kiosk.clone()).collect());
    let mut issuers = Vec::new();
    for _ in 0..s.clients {
        let (api, rx, kiosks) = (api.clone(), arrive_rx.clone(), kiosks.clone());
        issuers.push(tokio::spawn(async move {
            let mut out = Load::default();
            loop {
                let next = tokio::select! {
                    a = async { rx.lock().await.recv().await } => a,
                    () = tokio::time::sleep_until(end.into()) => None,
                };
                let Some(a) = next else { break };
                if Instant::now() >= end {
                    out.unsent += 1;
                    break;
                }
                issue(&api, &kiosks[a.branch], a, &mut out).await;
            }
            out
        }));
    }

    let mut windows = Vec::new();
    for (i, st) in staff.iter().enumerate() {
        let (api, st, stop) = (api.clone(), st.clone(), stop_rx.clone());
        let service_ms = s.service_ms;
        windows.push(tokio::spawn(async move {
            serve_window(&api, &st, service_ms, i as u64, stop).await
        }));
    }

    tokio::time::sleep_until(end.into()).await;
    let _ = stop_tx.send(true);
    let mut total = Load {
        started: Some(started),
        ..Default::default()
    };
    for t in issuers {
        total.absorb(t.await?);
    }
    {
        let mut rx = arrive_rx.lock().await;
        rx.close();
        while rx.try_recv().is_ok() {
            total.unsent += 1;
        }
    }
    total.offered = generator.join().expect("the arrivals thread");
    for t in windows {
        total.absorb(t.await?);
    }
    Ok(total)
}

impl Load {
    pub(crate) fn absorb(&mut self, o: Load) {
        self.issued.extend(o.issued);
        self.failed.extend(o.failed);
        self.retries += o.retries;
        self.unsent += o.unsent;
        self.calls.extend(o.calls);
        self.completes.extend(o.completes);
        self.nothing_waiting += o.nothing_waiting;
        self.staff_errors.extend(o.staff_errors);
    }
}

/// One ticket from a kiosk: up to [`TRIES`] tries with one Idempotency-Key, each on the next
/// server.
pub(crate) async fn issue(api: &Api, kiosk: &str, a: Arrival, out: &mut Load) {
    #[derive(serde::Deserialize)]
    struct Answer {
        id: String,
    }
    let key = format!("city-{}", a.n);
    let sent = Instant::now();
    let mut why = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            out.retries += 1;
        }
        let server = api.pick();
        let r = api
            .http
            .post(format!("{}/api/v1/tickets", api.servers[server]))
            .bearer_auth(kiosk)
            .header("Idempotency-Key", &key)
            .json(&json!({"service": a.service, "priority": false}))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == StatusCode::CREATED || r.status() == StatusCode::OK => {
                match r.json::<Answer>().await {
                    Ok(t) => {
                        out.issued.push(Issued {
                            branch: a.branch,
                            id: t.id,
                            due: a.due,
                            sent,
                            done: Instant::now(),
                        });
                        return;
                    }
                    Err(e) => why = format!("unreadable answer: {e}"),
                }
            }
            Ok(r) if r.status().is_server_error() => {
                why = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
            }
            Ok(r) => {
                // A 4xx is a refusal, not a glitch: trying again would not change it.
                let why = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
                out.failed.push((a.branch, why));
                return;
            }
            Err(e) => why = format!("{e}"),
        }
    }
    out.failed.push((a.branch, why));
}

/// A time drawn evenly from 0.5–1.5 × `mean_ms`.
pub(crate) fn pause(rng: &mut StdRng, mean_ms: u64) -> Duration {
    Duration::from_millis(mean_ms).mul_f64(rng.random_range(0.5..1.5))
}

/// A window's day: call, serve, complete, again; when nothing waits, look again a second later.
pub(crate) async fn serve_window(
    api: &Api,
    st: &Staff,
    service_ms: u64,
    seed: u64,
    mut stop: watch::Receiver<bool>,
) -> Load {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Load::default();
    // Not every window presses at the same instant.
    let first = pause(&mut rng, service_ms / 2);
    if tokio::time::timeout(first, stop.changed()).await.is_ok() {
        return out;
    }
    let call = format!("/api/v1/windows/{}/call-next", st.window);
    let complete = format!("/api/v1/windows/{}/complete", st.window);
    while !*stop.borrow() {
        let server = api.pick();
        let sent = Instant::now();
        let wait = match api.call(server, Method::POST, &call, &st.token, None).await {
            Ok((StatusCode::OK, v)) => {
                let done = Instant::now();
                let number = v["ticket"]["number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                out.calls.push(Called {
                    branch: st.branch,
                    number,
                    server,
                    sent,
                    done,
                });
                // Serving: the run may end meanwhile, and then the ticket stays called.
                if tokio::time::timeout(pause(&mut rng, service_ms), stop.changed())
                    .await
                    .is_ok()
                {
                    break;
                }
                let t = Instant::now();
                match api
                    .call(api.pick(), Method::POST, &complete, &st.token, None)
                    .await
                {
                    Ok((StatusCode::OK, _)) => out.completes.push(t.elapsed()),
                    Ok((status, v)) => out.staff_errors.push(format!("complete: {status} {v}")),
                    Err(e) => out.staff_errors.push(format!("complete: {e}")),
                }
                continue;
            }
            Ok((StatusCode::NO_CONTENT, _)) => {
                out.nothing_waiting += 1;
                pause(&mut rng, 1000)
            }
            Ok((status, v)) => {
                out.staff_errors.push(format!("call-next: {status} {v}"));
                pause(&mut rng, 1000)
            }
            Err(e) => {
                out.staff_errors.push(format!("call-next: {e}"));
                pause(&mut rng, 1000)
            }
        };
        if tokio::time::timeout(wait, stop.changed()).await.is_ok() {
            break;
        }
    }
    out
}
