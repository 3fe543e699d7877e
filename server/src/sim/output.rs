//! The human-readable report (without `--json`).

use std::fmt::Write;

use super::results::{Ci, EstimateAccuracy, Figures, PolicyResult, SimResult};

/// The result as tables: one row per policy.
pub fn table(r: &SimResult) -> String {
    let mut s = String::new();
    let unit = if r.steady_state_hours.is_some() {
        "replications"
    } else {
        "days"
    };
    let first = &r.policies[0];
    let _ = writeln!(
        s,
        "Scenario {:?}: {} {unit}, seed {}, {:.1} customers per {}; default policy: {}.",
        r.scenario,
        r.days,
        r.seed,
        first.overall.customers,
        &unit[..unit.len() - 1],
        r.default_policy
    );
    let _ = writeln!(
        s,
        "Every figure is a mean over {unit} ± the half-width of its 95 % confidence interval."
    );

    let mut groups = vec![Group::Overall];
    groups.extend(first.by_service.keys().cloned().map(Group::Service));
    if let Some(classes) = &first.by_class {
        groups.extend(classes.keys().cloned().map(Group::Class));
    }

    let header = |s: &mut String, title: &str| {
        let _ = write!(s, "\n{title}\n{:<14}", "policy");
        for g in &groups {
            let _ = write!(s, "{:>16}", g.name());
        }
        s.push('\n');
    };
    let metric = |s: &mut String, title: &str, pick: &dyn Fn(&Figures) -> Ci, digits: usize| {
        header(s, title);
        for p in &r.policies {
            let _ = write!(s, "{:<14}", p.policy);
            for g in &groups {
                let cell = g.of(p).map_or_else(String::new, |f| ci(pick(f), digits));
                let _ = write!(s, "{cell:>16}");
            }
            s.push('\n');
        }
    };
    metric(
        &mut s,
        "Service level (share called within target)",
        &|f| f.service_level,
        3,
    );
    metric(&mut s, "Mean wait (min)", &|f| f.mean_wait_min, 2);
    metric(&mut s, "90th percentile wait (min)", &|f| f.p90_wait_min, 2);
    metric(&mut s, "Median wait (min)", &|f| f.median_wait_min, 2);
    metric(&mut s, "Share who waited at all", &|f| f.p_wait, 3);

    if r.policies.iter().any(|p| p.vs_fifo.is_some()) {
        header(
            &mut s,
            "Service level minus FIFO's (paired, same customers)",
        );
        for p in &r.policies {
            let Some(v) = &p.vs_fifo else { continue };
            let _ = write!(s, "{:<14}", p.policy);
            let _ = write!(s, "{:>16}", signed(v.overall.service_level, 3));
            for code in first.by_service.keys() {
                let _ = write!(
                    s,
                    "{:>16}",
                    v.by_service
                        .get(code)
                        .map_or_else(String::new, |d| signed(d.service_level, 3))
                );
            }
            s.push('\n');
        }
    }

    let _ = writeln!(
        s,
        "\nEstimates a kiosk would print, against the actual wait (customers who waited)"
    );
    let _ = writeln!(
        s,
        "{:<14}{:>12}{:>12}{:>16}{:>16}",
        "policy", "formula MAE", "bias", "simulation MAE", "bias"
    );
    for p in &r.policies {
        let e = &p.estimate;
        let mut row = |label: &str, e: &EstimateAccuracy| {
            let _ = writeln!(
                s,
                "{:<14}{:>12.2}{:>12.2}{:>16.2}{:>16.2}",
                label,
                e.formula_mae_min,
                e.formula_bias_min,
                e.simulation_mae_min,
                e.simulation_bias_min
            );
        };
        row(&p.policy, e);
        if let Some(peak) = &e.peak {
            row(&format!("  {}–{}", peak.from, peak.to), &peak.accuracy);
        }
    }
    s
}

fn ci(c: Ci, digits: usize) -> String {
    if c.mean.is_nan() {
        return "–".to_string();
    }
    format!(
        "{:.digits$} ±{:.digits$}",
        c.mean,
        if c.ci95.is_nan() { 0.0 } else { c.ci95 }
    )
}

fn signed(c: Ci, digits: usize) -> String {
    if c.mean.is_nan() {
        return "–".to_string();
    }
    format!(
        "{:+.digits$} ±{:.digits$}",
        c.mean,
        if c.ci95.is_nan() { 0.0 } else { c.ci95 }
    )
}

/// A column of the tables.
enum Group {
    Overall,
    Service(String),
    Class(String),
}

impl Group {
    fn name(&self) -> &str {
        match self {
            Group::Overall => "overall",
            Group::Service(n) | Group::Class(n) => n,
        }
    }

    fn of<'a>(&self, p: &'a PolicyResult) -> Option<&'a Figures> {
        match self {
            Group::Overall => Some(&p.overall),
            Group::Service(code) => p.by_service.get(code),
            Group::Class(name) => p.by_class.as_ref().and_then(|m| m.get(name)),
        }
    }
}
