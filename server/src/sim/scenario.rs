//! The scenario format of `SIMULATION.md`: parsed once, checked, and compiled into the
//! millisecond model the simulation runs on.
//!
//! The same [`ScenarioFile`] deserializes from TOML (the command line) and from JSON (the
//! manager's what-if API), so both accept exactly the same scenarios.

use std::collections::BTreeMap;

use anyhow::{Context, bail, ensure};
use qhall_shared::ServiceCode;
use serde::{Deserialize, Serialize};

use super::forward::BookingHabits;
use super::random::Dist;
use crate::queue::policy::{Breaks, WindowSkills};

/// A scenario as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    /// Replications of this many hours instead of days (no `[hours]`, one `[[arrivals]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_state_hours: Option<f64>,
    #[serde(rename = "service")]
    pub services: Vec<ServiceSpec>,
    #[serde(rename = "window")]
    pub windows: Vec<WindowSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<HoursSpec>,
    #[serde(default)]
    pub arrivals: Vec<ArrivalsSpec>,
    /// A share of the arrivals comes booked (issue #12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointments: Option<AppointmentsSpec>,
}

/// `[appointments]`: a share of each service's customers book a slot instead of walking in.
/// A booked customer's slot is the one holding the moment they would have come (if it fits
/// whole in an opening period and has a place left; else they walk in). They arrive around the
/// slot's start, `early_mean_min` before it on average with a normal spread of
/// `punctuality_sd_min`; one who comes before check-in opens waits for it; one who comes after
/// it closes takes a normal ticket; `no_show` of them never come. An appointment is due at its
/// slot's start (or its check-in, if later) and its wait counts from then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentsSpec {
    /// Share of the arrivals that come booked, 0 to 0.9.
    pub share: f64,
    #[serde(default = "default_slot_min")]
    pub slot_min: f64,
    /// Bookings a slot takes per service (none: as many as come).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<u32>,
    #[serde(default = "default_early_min")]
    pub early_mean_min: f64,
    #[serde(default = "default_spread_min")]
    pub punctuality_sd_min: f64,
    #[serde(default)]
    pub no_show: f64,
    #[serde(default = "default_before_min")]
    pub checkin_before_min: f64,
    #[serde(default = "default_after_min")]
    pub checkin_after_min: f64,
}

fn default_slot_min() -> f64 {
    15.0
}
fn default_early_min() -> f64 {
    5.0
}
fn default_spread_min() -> f64 {
    5.0
}
fn default_before_min() -> f64 {
    30.0
}
fn default_after_min() -> f64 {
    10.0
}

/// [`AppointmentsSpec`] in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AppointmentsRt {
    pub(crate) share: f64,
    pub(crate) slot: i64,
    pub(crate) places: Option<u32>,
    pub(crate) early_mean: f64,
    pub(crate) spread: f64,
    pub(crate) no_show: f64,
    pub(crate) before: i64,
    pub(crate) after: i64,
}

impl AppointmentsRt {
    /// `g`'s arrivals less those expected to book: a share of them, or fewer where the places
    /// of a slot cannot take that share (the demand of a slot is its expected bookings).
    fn walk_ins(&self, g: &Segment) -> Segment {
        let rates = g
            .rates
            .iter()
            .map(|&r| {
                let wanted = r * self.slot as f64 * self.share;
                let booked = match self.places {
                    Some(p) if wanted > f64::from(p) => f64::from(p) / wanted,
                    _ => 1.0,
                };
                r * (1.0 - self.share * booked)
            })
            .collect();
        Segment { rates, ..*g }
    }
}

impl AppointmentsSpec {
    fn compile(&self) -> anyhow::Result<AppointmentsRt> {
        let ok = |v: f64, lo: f64, hi: f64| v.is_finite() && (lo..=hi).contains(&v);
        ensure!(ok(self.share, 0.0, 0.9), "[appointments] share is 0 to 0.9");
        ensure!(
            ok(self.slot_min, 5.0, 240.0),
            "[appointments] slot_min is 5 to 240"
        );
        ensure!(
            self.places.is_none_or(|p| (1..=50).contains(&p)),
            "[appointments] places is 1 to 50"
        );
        ensure!(
            ok(self.early_mean_min, -60.0, 60.0),
            "[appointments] early_mean_min is -60 to 60"
        );
        ensure!(
            ok(self.punctuality_sd_min, 0.0, 60.0),
            "[appointments] punctuality_sd_min is 0 to 60"
        );
        ensure!(
            ok(self.no_show, 0.0, 0.9),
            "[appointments] no_show is 0 to 0.9"
        );
        ensure!(
            ok(self.checkin_before_min, 0.0, 120.0) && ok(self.checkin_after_min, 0.0, 120.0),
            "[appointments] checkin_before_min and checkin_after_min are 0 to 120"
        );
        let ms = |m: f64| (m * MS_PER_MIN).round() as i64;
        Ok(AppointmentsRt {
            share: self.share,
            slot: ms(self.slot_min),
            places: self.places,
            early_mean: self.early_mean_min * MS_PER_MIN,
            spread: self.punctuality_sd_min * MS_PER_MIN,
            no_show: self.no_show,
            before: ms(self.checkin_before_min),
            after: ms(self.checkin_after_min),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub code: ServiceCode,
    pub mean_service_min: f64,
    #[serde(default)]
    pub distribution: Distribution,
    /// Coefficient of variation, for `lognormal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<f64>,
    pub target_wait_min: f64,
    #[serde(default)]
    pub priority_share: f64,
    /// Ticket number range (default 1–999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_number: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    #[default]
    Exponential,
    Lognormal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub number: u32,
    /// Services in the window's order of preference.
    pub serves: Vec<ServiceCode>,
    /// Optional weight per served service (the default policy multiplies shares by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSpec {
    /// `[["09:00", "12:00"], ["13:00", "17:00"]]`: calls and arrivals only inside.
    pub open: Vec<[String; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub per_hour: BTreeMap<ServiceCode, f64>,
}

/// A checked scenario, ready to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub file: ScenarioFile,
    pub(crate) model: Model,
}

impl Scenario {
    /// Parses and checks a TOML scenario.
    pub fn from_toml(text: &str) -> anyhow::Result<Scenario> {
        let file: ScenarioFile =
            toml::from_str(text).context("the scenario is not valid TOML in the expected form")?;
        Scenario::new(file)
    }

    /// Checks a scenario (from any serde format) and compiles it.
    pub fn new(file: ScenarioFile) -> anyhow::Result<Scenario> {
        let model = Model::compile(&file)?;
        Ok(Scenario { file, model })
    }

    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The service codes, in the scenario's order.
    pub fn service_codes(&self) -> Vec<ServiceCode> {
        self.model.services.iter().map(|s| s.code).collect()
    }

    /// Customers expected per day (or replication), from the arrival rates.
    pub fn expected_customers(&self) -> f64 {
        self.model
            .segments
            .iter()
            .map(|g| (g.to - g.from) as f64 * g.rates.iter().sum::<f64>())
            .sum()
    }

    /// Whether any customers carry the priority flag.
    pub fn has_priority(&self) -> bool {
        self.model.services.iter().any(|s| s.priority_share > 0.0)
    }
}

pub(crate) const MS_PER_MIN: f64 = 60_000.0;
pub(crate) const MS_PER_HOUR: f64 = 3_600_000.0;

/// A service as the simulation runs it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceRt {
    pub(crate) code: ServiceCode,
    pub(crate) target_wait_secs: u32,
    /// Service time, milliseconds.
    pub(crate) dist: Dist,
    pub(crate) priority_share: f64,
    pub(crate) numbers: (u32, u32),
}

/// A window as the simulation runs it.
#[derive(Debug, Clone)]
pub(crate) struct WindowRt {
    pub(crate) number: u32,
    pub(crate) skills: WindowSkills,
    /// Indices into the services, in the window's order.
    pub(crate) serves: Vec<usize>,
}

/// Arrivals at constant rates over `[from, to)`, milliseconds of the day.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub(crate) from: i64,
    pub(crate) to: i64,
    /// Arrivals per millisecond, per service.
    pub(crate) rates: Vec<f64>,
}

/// The first run of adjacent segments (one's end is the next one's start) whose total rate is
/// the highest of the day.
fn peak_of(segments: &[Segment]) -> (i64, i64) {
    let total = |s: &Segment| s.rates.iter().sum::<f64>();
    let top = segments.iter().map(total).fold(0.0, f64::max);
    let mut peak: Option<(i64, i64)> = None;
    for s in segments {
        let busiest = top > 0.0 && (total(s) - top).abs() <= 1e-12 * top;
        match peak {
            None if busiest => peak = Some((s.from, s.to)),
            Some((from, to)) if busiest && s.from == to => peak = Some((from, s.to)),
            Some(_) => break,
            None => {}
        }
    }
    peak.unwrap_or((0, 0))
}

/// The compiled scenario: all times in milliseconds after the day's (or replication's) start.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) services: Vec<ServiceRt>,
    pub(crate) windows: Vec<WindowRt>,
    /// When calls may start; after the last period ends every waiting ticket is still called.
    pub(crate) open: Vec<(i64, i64)>,
    /// Arrival segments, inside the open periods, in time order.
    pub(crate) segments: Vec<Segment>,
    /// Customers counted in the results arrive within this range (the warm-up is outside).
    pub(crate) measured: (i64, i64),
    /// The day's peak: the first run of adjacent arrival segments with the highest total rate
    /// (empty for a steady-state scenario, which has no peak).
    pub(crate) peak: (i64, i64),
    pub(crate) appointments: Option<AppointmentsRt>,
    /// The arrivals that come without a booking, as a forecast expects them: `segments` less
    /// the expected share booked (the same as `segments` without bookings).
    pub(crate) walk_in_segments: Vec<Segment>,
}

impl Model {
    fn compile(file: &ScenarioFile) -> anyhow::Result<Model> {
        ensure!(
            !file.services.is_empty(),
            "a scenario needs at least one [[service]]"
        );
        ensure!(
            !file.windows.is_empty(),
            "a scenario needs at least one [[window]]"
        );
        let mut services = Vec::new();
        for s in &file.services {
            let what = format!("service {}", s.code);
            ensure!(
                !services.iter().any(|x: &ServiceRt| x.code == s.code),
                "{what} is defined twice"
            );
            ensure!(
                s.mean_service_min.is_finite() && s.mean_service_min > 0.0,
                "{what}: mean_service_min must be > 0"
            );
            ensure!(
                s.target_wait_min.is_finite() && (0.0..=10_000.0).contains(&s.target_wait_min),
                "{what}: target_wait_min must be ≥ 0"
            );
            ensure!(
                (0.0..=1.0).contains(&s.priority_share),
                "{what}: priority_share must be between 0 and 1"
            );
            let mean_ms = s.mean_service_min * MS_PER_MIN;
            let dist = match (s.distribution, s.cv) {
                (Distribution::Exponential, None) => Dist::Exponential { mean: mean_ms },
                (Distribution::Exponential, Some(cv)) if (cv - 1.0).abs() < 1e-9 => {
                    Dist::Exponential { mean: mean_ms }
                }
                (Distribution::Exponential, Some(_)) => bail!(
                    "{what}: an exponential distribution has cv = 1; use distribution = \"lognormal\""
                ),
                (Distribution::Lognormal, Some(cv)) if cv.is_finite() && cv > 0.0 && cv <= 10.0 => {
                    Dist::lognormal(mean_ms, cv)
                }
                (Distribution::Lognormal, _) => {
                    bail!("{what}: a lognormal distribution needs cv between 0 and 10")
                }
            };
            let numbers = (s.first_number.unwrap_or(1), s.last_number.unwrap_or(999));
            ensure!(
                numbers.0 <= numbers.1 && numbers.1 <= 99_999,
                "{what}: the number range is empty or too large"
            );
            services.push(ServiceRt {
                code: s.code,
                target_wait_secs: (s.target_wait_min * 60.0).round() as u32,
                dist,
                priority_share: s.priority_share,
                numbers,
            });
        }
        let index = |code: ServiceCode| services.iter().position(|s| s.code == code);

        let mut windows: Vec<WindowRt> = Vec::new();
        for w in &file.windows {
            let what = format!("window {}", w.number);
            ensure!(
                (1..=9999).contains(&w.number),
                "{what}: numbers are 1 to 9999"
            );
            ensure!(
                !windows.iter().any(|x| x.number == w.number),
                "{what} is defined twice"
            );
            ensure!(!w.serves.is_empty(), "{what} serves nothing");
            let weights = match &w.weights {
                Some(v) => {
                    ensure!(
                        v.len() == w.serves.len(),
                        "{what}: one weight per served service"
                    );
                    ensure!(
                        v.iter().all(|x| x.is_finite() && *x > 0.0),
                        "{what}: weights must be > 0"
                    );
                    v.clone()
                }
                None => vec![1.0; w.serves.len()],
            };
            let mut serves = Vec::new();
            for code in &w.serves {
                let i = index(*code)
                    .with_context(|| format!("{what} serves {code}, which is not a [[service]]"))?;
                ensure!(!serves.contains(&i), "{what} lists {code} twice");
                serves.push(i);
            }
            windows.push(WindowRt {
                number: w.number,
                skills: WindowSkills {
                    serves: w.serves.iter().copied().zip(weights).collect(),
                },
                serves,
            });
        }

        let rates_of = |a: &ArrivalsSpec| -> anyhow::Result<Vec<f64>> {
            let mut rates = vec![0.0; services.len()];
            for (code, per_hour) in &a.per_hour {
                let i = index(*code)
                    .with_context(|| format!("arrivals for {code}, which is not a [[service]]"))?;
                ensure!(
                    per_hour.is_finite() && (0.0..=100_000.0).contains(per_hour),
                    "arrivals for {code} must be ≥ 0 per hour"
                );
                rates[i] += per_hour / MS_PER_HOUR;
            }
            Ok(rates)
        };

        let (open, segments, measured) = if let Some(hours) = file.steady_state_hours {
            ensure!(
                hours.is_finite() && hours > 0.0 && hours <= 100_000.0,
                "steady_state_hours must be > 0"
            );
            ensure!(
                file.hours.is_none(),
                "a steady_state_hours scenario has no [hours]"
            );
            ensure!(
                file.arrivals.len() == 1,
                "a steady_state_hours scenario has exactly one [[arrivals]] block"
            );
            let end = (hours * MS_PER_HOUR).round() as i64;
            // Arrivals go on for a tail after the measured range, so the last measured customers
            // meet the same traffic as the others (a priority customer can still overtake them).
            let tail = (end / 10).max(3_600_000);
            let segments = vec![Segment {
                from: 0,
                to: end + tail,
                rates: rates_of(&file.arrivals[0])?,
            }];
            (vec![(0, i64::MAX)], segments, (end / 10, end))
        } else {
            let hours = file
                .hours
                .as_ref()
                .context("a scenario needs [hours] (or steady_state_hours)")?;
            let mut open = Vec::new();
            for [from, to] in &hours.open {
                let (a, b) = (clock_ms(from)?, clock_ms(to)?);
                ensure!(a < b, "opening period {from}–{to} ends before it starts");
                if let Some(&(_, prev)) = open.last() {
                    ensure!(
                        a >= prev,
                        "opening periods must be in order and not overlap ({from})"
                    );
                }
                open.push((a, b));
            }
            ensure!(!open.is_empty(), "[hours] open has no period");
            let mut segments = Vec::new();
            for a in &file.arrivals {
                let what = "an [[arrivals]] block";
                let from = clock_ms(
                    a.from
                        .as_deref()
                        .with_context(|| format!("{what} needs from"))?,
                )?;
                let to = clock_ms(
                    a.to.as_deref()
                        .with_context(|| format!("{what} needs to"))?,
                )?;
                ensure!(from < to, "{what} ends before it starts");
                let rates = rates_of(a)?;
                // Only the parts inside opening hours: the kiosk issues nothing outside them.
                for &(o, c) in &open {
                    let (f, t) = (from.max(o), to.min(c));
                    if f < t {
                        segments.push(Segment {
                            from: f,
                            to: t,
                            rates: rates.clone(),
                        });
                    }
                }
            }
            segments.sort_by_key(|s| s.from);
            (open, segments, (i64::MIN, i64::MAX))
        };

        for (i, s) in services.iter().enumerate() {
            let arrives = segments.iter().any(|seg| seg.rates[i] > 0.0);
            ensure!(
                !arrives || windows.iter().any(|w| w.serves.contains(&i)),
                "service {} has arrivals but no window serves it",
                s.code
            );
        }
        let appointments = file
            .appointments
            .as_ref()
            .map(AppointmentsSpec::compile)
            .transpose()?;
        let peak = if file.steady_state_hours.is_some() {
            (0, 0)
        } else {
            peak_of(&segments)
        };
        let walk_in_segments = match &appointments {
            Some(a) => segments.iter().map(|g| a.walk_ins(g)).collect(),
            None => segments.clone(),
        };
        Ok(Model {
            services,
            windows,
            open,
            segments,
            measured,
            peak,
            appointments,
            walk_in_segments,
        })
    }

    /// Whether a window may start a call at `t`: inside an opening period, or after the last one
    /// (every issued ticket is still served after closing).
    pub(crate) fn can_call(&self, t: i64) -> bool {
        let last_close = self.open.last().map_or(i64::MIN, |p| p.1);
        t >= last_close || self.open.iter().any(|&(a, b)| a <= t && t < b)
    }

    /// The next time at or after `t` when calls may start.
    pub(crate) fn next_call_time(&self, t: i64) -> i64 {
        if self.can_call(t) {
            return t;
        }
        self.open.iter().map(|p| p.0).find(|&a| a > t).unwrap_or(t)
    }

    /// The breaks between opening periods, as the policy sees them.
    pub(crate) fn breaks(&self) -> Breaks {
        Breaks::new(
            self.open
                .windows(2)
                .map(|p| (super::hall::at(p[0].1), super::hall::at(p[1].0)))
                .collect(),
        )
    }

    /// How the forecast expects booked customers to come: the scenario's own habits (a hall
    /// would learn them from its history).
    pub(crate) fn booking_habits(&self) -> BookingHabits {
        self.appointments
            .as_ref()
            .map_or(BookingHabits::NONE, |a| BookingHabits {
                show: 1.0 - a.no_show,
                early: a.early_mean,
                spread: a.spread,
            })
    }

    /// The periods without calls from `t` on (breaks, and before opening), for the forecast.
    pub(crate) fn pauses_after(&self, t: i64) -> Vec<(i64, i64)> {
        let mut pauses = Vec::new();
        let mut prev_end = i64::MIN;
        for &(a, b) in &self.open {
            if a > prev_end && a > t {
                pauses.push((prev_end.max(t), a));
            }
            prev_end = b;
        }
        pauses
    }
}

/// `"09:30"` → milliseconds after midnight (`"24:00"` allowed).
fn clock_ms(s: &str) -> anyhow::Result<i64> {
    let bad = || format!("{s:?} is not a time of day like \"09:30\"");
    let (h, m) = s.split_once(':').with_context(bad)?;
    let (h, m): (i64, i64) = (h.parse().with_context(bad)?, m.parse().with_context(bad)?);
    ensure!(
        (0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440,
        bad()
    );
    Ok((h * 60 + m) * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALL: &str = r#"
name = "t"
[[service]]
code = "A"
mean_service_min = 6.0
target_wait_min = 15.0
[[service]]
code = "B"
mean_service_min = 4.0
distribution = "lognormal"
cv = 0.5
target_wait_min = 10.0
priority_share = 0.1
[[window]]
number = 1
serves = ["A", "B"]
[[window]]
number = 2
serves = ["B"]
[hours]
open = [["09:00", "12:00"], ["13:00", "17:00"]]
[[arrivals]]
from = "08:00"
to = "14:00"
per_hour = { A = 6.0, B = 12.0 }
"#;

    #[test]
    fn a_hall_compiles_to_milliseconds_with_arrivals_inside_opening_hours() {
        let s = Scenario::from_toml(HALL).unwrap();
        let m = &s.model;
        assert_eq!(
            m.open,
            vec![
                (9 * 3_600_000, 12 * 3_600_000),
                (13 * 3_600_000, 17 * 3_600_000)
            ]
        );
        let spans: Vec<(i64, i64)> = m
            .segments
            .iter()
            .map(|g| (g.from / 60_000, g.to / 60_000))
            .collect();
        assert_eq!(spans, vec![(540, 720), (780, 840)]);
        assert_eq!(m.windows[0].serves, vec![0, 1]);
        assert_eq!(m.services[1].target_wait_secs, 600);
        assert!((m.services[1].dist.mean() - 240_000.0).abs() < 1e-6);
        assert!(s.has_priority());
    }

    #[test]
    fn calls_stop_in_breaks_and_go_on_after_closing() {
        let m = Scenario::from_toml(HALL).unwrap().model;
        let h = |x: f64| (x * 3_600_000.0) as i64;
        assert!(!m.can_call(h(8.0)));
        assert!(m.can_call(h(9.0)));
        assert!(!m.can_call(h(12.0)));
        assert_eq!(m.next_call_time(h(12.5)), h(13.0));
        assert!(m.can_call(h(17.0)) && m.can_call(h(20.0)));
        assert_eq!(m.pauses_after(h(10.0)), vec![(h(12.0), h(13.0))]);
        assert_eq!(m.pauses_after(h(12.5)), vec![(h(12.5), h(13.0))]);
        assert_eq!(
            m.pauses_after(h(6.0)),
            vec![(h(6.0), h(9.0)), (h(12.0), h(13.0))]
        );
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: String| format!("{:#}", Scenario::from_toml(&text).unwrap_err());
        assert!(
            err(HALL.replace("serves = [\"B\"]", "serves = [\"Z\"]")).contains("window 2 serves Z")
        );
        assert!(err(HALL.replace("cv = 0.5\n", "")).contains("needs cv"));
        assert!(
            err(HALL.replace("\"13:00\", \"17:00\"", "\"11:00\", \"17:00\"")).contains("overlap")
        );
        assert!(
            err(HALL.replace("\"09:00\", \"12:00\"", "\"9h\", \"12:00\"")).contains("time of day")
        );
        assert!(
            err(HALL.replace("serves = [\"A\", \"B\"]", "serves = [\"B\"]"))
                .contains("service A has arrivals but no window")
        );
        assert!(
            err(HALL.replace("priority_share = 0.1", "priority_sare = 0.1"))
                .contains("priority_sare")
        );
    }

    #[test]
    fn a_steady_state_scenario_measures_after_the_warm_up() {
        let text = r#"
name = "mmc"
steady_state_hours = 20.0
[[service]]
code = "A"
mean_service_min = 6.0
target_wait_min = 15.0
[[window]]
number = 1
serves = ["A"]
[[arrivals]]
per_hour = { A = 6.0 }
"#;
        let m = Scenario::from_toml(text).unwrap().model;
        assert_eq!(m.measured, (2 * 3_600_000, 20 * 3_600_000));
        assert_eq!(m.segments.len(), 1);
        assert!(m.segments[0].to > 20 * 3_600_000);
        assert!(m.can_call(0));
    }

    #[test]
    fn the_same_scenario_reads_from_json() {
        let s = Scenario::from_toml(HALL).unwrap();
        let json = serde_json::to_string(&s.file).unwrap();
        let back: ScenarioFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s.file);
    }
}
