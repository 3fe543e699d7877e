//! From customers' waits to the result of `SIMULATION.md`: daily figures per group (overall, each
//! service, each priority class), their means with 95 % confidence intervals over days, paired
//! differences between policies, and the accuracy of the estimates.
//!
//! Each day is one observation: days are independent, customers within a day are not (one
//! long queue makes many long waits), so intervals over days are honest where intervals over
//! customers would be far too narrow. Percentiles are the engine's nearest-rank
//! ([`crate::queue::stats::percentile`]); service level counts waits ≤ target, as the server does.

use std::collections::BTreeMap;

use serde::Serialize;

use super::customers::Customer;
use super::day::Outcome;
use super::random::t975;
use super::scenario::{MS_PER_MIN, Model};
use crate::queue::stats::percentile;

/// One group's figures on one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DayFigures {
    pub(crate) customers: u32,
    pub(crate) values: [f64; METRICS.len()],
}

/// The figures reported with a confidence interval, in output order.
pub(crate) const METRICS: [&str; 5] = [
    "service_level",
    "mean_wait_min",
    "median_wait_min",
    "p90_wait_min",
    "p_wait",
];

/// Sums for the estimates' accuracy, over customers who waited: all of them, and those issued
/// in the scenario's peak ([`Model::peak`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct EstimateSums {
    pub(crate) all: Sums,
    pub(crate) peak: Sums,
    /// By the hour of the day (the scenario's clock) the customer was issued in.
    pub(crate) by_hour: BTreeMap<i64, Sums>,
}

/// One set of estimate sums (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Sums {
    pub(crate) customers: u64,
    pub(crate) formula_abs: f64,
    pub(crate) formula_signed: f64,
    pub(crate) forecast_customers: u64,
    pub(crate) forecast_abs: f64,
    pub(crate) forecast_signed: f64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.customers += o.customers;
        self.formula_abs += o.formula_abs;
        self.formula_signed += o.formula_signed;
        self.forecast_customers += o.forecast_customers;
        self.forecast_abs += o.forecast_abs;
        self.forecast_signed += o.forecast_signed;
    }

    /// Adds one customer who waited `wait` and was told `formula` and `forecast`.
    fn count(&mut self, wait: f64, formula: f64, forecast: Option<f64>) {
        self.customers += 1;
        self.formula_abs += (formula - wait).abs();
        self.formula_signed += formula - wait;
        if let Some(p) = forecast {
            self.forecast_customers += 1;
            self.forecast_abs += (p - wait).abs();
            self.forecast_signed += p - wait;
        }
    }

    fn accuracy(&self) -> EstimateAccuracy {
        let per = |sum: f64, n: u64| {
            if n == 0 {
                f64::NAN
            } else {
                sum / n as f64 / MS_PER_MIN
            }
        };
        EstimateAccuracy {
            customers: self.customers,
            formula_mae_min: per(self.formula_abs, self.customers),
            formula_bias_min: per(self.formula_signed, self.customers),
            simulation_mae_min: per(self.forecast_abs, self.forecast_customers),
            simulation_bias_min: per(self.forecast_signed, self.forecast_customers),
            peak: None,
            by_hour: None,
        }
    }
}

/// One policy's day: figures per group (`None`: no customer of that group that day).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PolicyDay {
    pub(crate) groups: Vec<Option<DayFigures>>,
    pub(crate) estimates: EstimateSums,
}

/// Groups: 0 is overall, `1 + s` service `s`, then the classes of [`class_names`].
pub(crate) fn group_count(model: &Model) -> usize {
    1 + model.services.len() + class_names(model).len()
}

/// The classes reported beside the services: `priority` and `normal` with priority customers,
/// `walk_in` and `appointment` with bookings.
fn class_names(model: &Model) -> Vec<&'static str> {
    let mut out = Vec::new();
    if model.services.iter().any(|s| s.priority_share > 0.0) {
        out.extend(["priority", "normal"]);
    }
    if model.appointments.is_some() {
        out.extend(["walk_in", "appointment"]);
    }
    out
}

/// The class groups customer `c` counts in.
fn class_groups(model: &Model, c: &Customer) -> impl Iterator<Item = usize> {
    let base = 1 + model.services.len();
    let names = class_names(model);
    let of = |name: &str| names.iter().position(|n| *n == name).map(|i| base + i);
    let priority = of(if c.priority { "priority" } else { "normal" });
    let kind = of(if c.appointment.is_some() {
        "appointment"
    } else {
        "walk_in"
    });
    priority.into_iter().chain(kind)
}

/// The day's figures for one policy, counting the measured customers only.
pub(crate) fn summarize(model: &Model, customers: &[Customer], outcomes: &[Outcome]) -> PolicyDay {
    let groups = group_count(model);
    // Per group: waits (ms) and how many within target.
    let mut waits: Vec<Vec<i64>> = vec![Vec::new(); groups];
    let mut within = vec![0u32; groups];
    let mut estimates = EstimateSums::default();
    for (c, o) in customers.iter().zip(outcomes) {
        if !(model.measured.0..model.measured.1).contains(&c.arrive) {
            continue;
        }
        let Some(wait) = o.wait else { continue };
        let ok = wait <= i64::from(model.services[c.service].target_wait_secs) * 1000;
        for g in [0, 1 + c.service].into_iter().chain(class_groups(model, c)) {
            waits[g].push(wait);
            within[g] += u32::from(ok);
        }
        // Estimates are scored on walk-ins (an appointment is told its slot).
        if wait > 0 && c.appointment.is_none() {
            let (w, f) = (wait as f64, o.formula as f64);
            estimates.all.count(w, f, o.forecast);
            if (model.peak.0..model.peak.1).contains(&c.arrive) {
                estimates.peak.count(w, f, o.forecast);
            }
            if model.peak.1 > model.peak.0 {
                let hour = c.arrive.div_euclid(3_600_000);
                estimates
                    .by_hour
                    .entry(hour)
                    .or_default()
                    .count(w, f, o.forecast);
            }
        }
    }
    let groups = waits
        .iter_mut()
        .zip(&within)
        .map(|(w, &within)| {
            if w.is_empty() {
                return None;
            }
            w.sort_unstable();
            let n = w.len() as f64;
            let mins: Vec<f64> = w.iter().map(|&x| x as f64 / MS_PER_MIN).collect();
            let mean = mins.iter().sum::<f64>() / n;
            let waited = w.iter().filter(|&&x| x > 0).count() as f64;
            Some(DayFigures {
                customers: w.len() as u32,
                values: [
                    f64::from(within) / n,
                    mean,
                    percentile(&mins, 0.5).unwrap_or(0.0),
                    percentile(&mins, 0.9).unwrap_or(0.0),
                    waited / n,
                ],
            })
        })
        .collect();
    PolicyDay { groups, estimates }
}

/// A mean over days with the half-width of its 95 % confidence interval (Student's t).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ci {
    pub mean: f64,
    /// `null` in JSON with fewer than two days.
    pub ci95: f64,
}

impl Ci {
    pub(crate) fn over(values: &[f64]) -> Ci {
        let n = values.len();
        if n == 0 {
            return Ci {
                mean: f64::NAN,
                ci95: f64::NAN,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Ci {
                mean,
                ci95: f64::NAN,
            };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        Ci {
            mean,
            ci95: t975(n - 1) * (var / n as f64).sqrt(),
        }
    }

    /// The lower end of the interval.
    pub fn low(&self) -> f64 {
        self.mean - self.ci95
    }

    /// The upper end of the interval.
    pub fn high(&self) -> f64 {
        self.mean + self.ci95
    }

    /// Whether `x` lies within the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low() <= x && x <= self.high()
    }
}

/// One group's figures over all days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Customers per day.
    pub customers: f64,
    pub service_level: Ci,
    pub mean_wait_min: Ci,
    pub median_wait_min: Ci,
    pub p90_wait_min: Ci,
    /// Share of customers who were not called at once.
    pub p_wait: Ci,
}

/// Paired differences (this policy − the other) of one group's daily figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Differences {
    pub service_level: Ci,
    pub mean_wait_min: Ci,
    pub median_wait_min: Ci,
    pub p90_wait_min: Ci,
    pub p_wait: Ci,
}

/// Paired differences against another policy, day by day on the same customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    pub overall: Differences,
    pub by_service: BTreeMap<String, Differences>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_class: Option<BTreeMap<String, Differences>>,
}

/// How far the estimates a kiosk would print were from the waits, over customers who waited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateAccuracy {
    pub customers: u64,
    pub formula_mae_min: f64,
    pub formula_bias_min: f64,
    /// The forward simulation ([`super::forward`]); `null` when forecasts were off.
    pub simulation_mae_min: f64,
    pub simulation_bias_min: f64,
    /// The same over customers issued in the scenario's peak: the arrival segments with the
    /// highest total rate (the first run of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<Box<PeakAccuracy>>,
    /// The same by the hour customers were issued in ("09" is 09:00–10:00), where the day
    /// has a clock (not in a steady-state scenario).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_hour: Option<BTreeMap<String, EstimateAccuracy>>,
}

/// [`EstimateAccuracy`] over the peak, with its span as the hall's clock says it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakAccuracy {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub accuracy: EstimateAccuracy,
}

/// One policy's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyResult {
    pub policy: String,
    pub overall: Figures,
    pub by_service: BTreeMap<String, Figures>,
    /// `priority` and `normal` (with priority customers), `walk_in` and `appointment` (with bookings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_class: Option<BTreeMap<String, Figures>>,
    pub estimate: EstimateAccuracy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_fifo: Option<Paired>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_target_ratio: Option<Paired>,
}

/// The result of a simulation, as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimResult {
    pub scenario: String,
    pub days: u32,
    pub seed: u64,
    pub default_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steady_state_hours: Option<f64>,
    pub forecast_runs: u32,
    pub policies: Vec<PolicyResult>,
}

impl SimResult {
    pub fn policy(&self, name: &str) -> Option<&PolicyResult> {
        self.policies.iter().find(|p| p.policy == name)
    }
}

/// Names of the groups, as in the output.
pub(crate) struct GroupNames {
    pub(crate) services: Vec<String>,
    pub(crate) classes: Vec<&'static str>,
}

impl GroupNames {
    pub(crate) fn of(model: &Model) -> GroupNames {
        GroupNames {
            services: model.services.iter().map(|s| s.code.to_string()).collect(),
            classes: class_names(model),
        }
    }

    /// Splits per-group values into overall, by service and by class.
    fn split<T: Clone>(
        &self,
        per_group: &[T],
    ) -> (T, BTreeMap<String, T>, Option<BTreeMap<String, T>>) {
        let s = self.services.len();
        let by_service = self
            .services
            .iter()
            .cloned()
            .zip(per_group[1..=s].iter().cloned())
            .collect();
        let by_class = (!self.classes.is_empty()).then(|| {
            self.classes
                .iter()
                .enumerate()
                .map(|(i, name)| (name.to_string(), per_group[s + 1 + i].clone()))
                .collect()
        });
        (per_group[0].clone(), by_service, by_class)
    }
}

/// Figures over days: `days[d]` is one policy's day `d`.
pub(crate) fn figures(
    names: &GroupNames,
    days: &[&PolicyDay],
) -> (
    Figures,
    BTreeMap<String, Figures>,
    Option<BTreeMap<String, Figures>>,
) {
    let groups = days.first().map_or(0, |d| d.groups.len());
    let per_group: Vec<Figures> = (0..groups)
        .map(|g| {
            let present: Vec<&DayFigures> =
                days.iter().filter_map(|d| d.groups[g].as_ref()).collect();
            let ci = |m: usize| Ci::over(&present.iter().map(|f| f.values[m]).collect::<Vec<_>>());
            let customers = present.iter().map(|f| f64::from(f.customers)).sum::<f64>()
                / days.len().max(1) as f64;
            Figures {
                customers,
                service_level: ci(0),
                mean_wait_min: ci(1),
                median_wait_min: ci(2),
                p90_wait_min: ci(3),
                p_wait: ci(4),
            }
        })
        .collect();
    names.split(&per_group)
}

/// Paired differences `a − b` over the days where both have the group.
pub(crate) fn paired(names: &GroupNames, a: &[&PolicyDay], b: &[&PolicyDay]) -> Paired {
    let groups = a.first().map_or(0, |d| d.groups.len());
    let per_group: Vec<Differences> = (0..groups)
        .map(|g| {
            let pairs: Vec<(&DayFigures, &DayFigures)> = a
                .iter()
                .zip(b)
                .filter_map(|(x, y)| Some((x.groups[g].as_ref()?, y.groups[g].as_ref()?)))
                .collect();
            let ci = |m: usize| {
                Ci::over(
                    &pairs
                        .iter()
                        .map(|(x, y)| x.values[m] - y.values[m])
                        .collect::<Vec<_>>(),
                )
            };
            Differences {
                service_level: ci(0),
                mean_wait_min: ci(1),
                median_wait_min: ci(2),
                p90_wait_min: ci(3),
                p_wait: ci(4),
            }
        })
        .collect();
    let (overall, by_service, by_class) = names.split(&per_group);
    Paired {
        overall,
        by_service,
        by_class,
    }
}

/// The estimates' accuracy over all days, and over the peak.
pub(crate) fn accuracy(model: &Model, days: &[&PolicyDay]) -> EstimateAccuracy {
    let (mut all, mut peak) = (Sums::default(), Sums::default());
    let mut hours: BTreeMap<i64, Sums> = BTreeMap::new();
    for d in days {
        all.add(&d.estimates.all);
        peak.add(&d.estimates.peak);
        for (h, s) in &d.estimates.by_hour {
            hours.entry(*h).or_default().add(s);
        }
    }
    let clock = |ms: i64| format!("{:02}:{:02}", ms / 3_600_000, ms / 60_000 % 60);
    EstimateAccuracy {
        peak: (model.peak.1 > model.peak.0).then(|| {
            Box::new(PeakAccuracy {
                from: clock(model.peak.0),
                to: clock(model.peak.1),
                accuracy: peak.accuracy(),
            })
        }),
        by_hour: (!hours.is_empty()).then(|| {
            hours
                .iter()
                .map(|(h, s)| (format!("{h:02}"), s.accuracy()))
                .collect()
        }),
        ..all.accuracy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confidence_interval_uses_student_t() {
        let ci = Ci::over(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ci.mean, 2.5);
        // sd = 1.291, se = 0.6455, t(3) = 3.182.
        assert!((ci.ci95 - 3.182 * 0.645_497).abs() < 1e-4, "{}", ci.ci95);
        assert!(ci.contains(0.5) && !ci.contains(0.3));
        assert!(Ci::over(&[3.0]).ci95.is_nan());
        assert!(Ci::over(&[]).mean.is_nan());
    }

    #[test]
    fn nan_becomes_null_in_json() {
        let json = serde_json::to_string(&Ci {
            mean: 1.0,
            ci95: f64::NAN,
        })
        .unwrap();
        assert_eq!(json, r#"{"mean":1.0,"ci95":null}"#);
    }
}
