//! The monthly assessment (issue #14), as pure rules: one person's figures for a period become
//! a score (100 less the points each counted lapse costs, at the weights the branch's manager
//! set, never below 0), a grade (the highest whose threshold the score reaches), and the
//! consequences the branch's ladder proposes ("3 or more late arrivals in a month → verbal
//! reminder"). A proposal is only that: a manager confirms or dismisses it.

use serde::{Deserialize, Serialize};

/// What one person did in a period. Counts are whole; `pause_mins` is minutes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Tickets they completed.
    pub served: u32,
    /// Their mean service time, seconds (none: nothing served).
    pub service_secs_mean: Option<f64>,
    /// Their service time against each service's own median over the period: the sum of their
    /// service times over the sum of the medians of the services they served (1.0 is typical,
    /// below is quicker). None: nothing served.
    pub service_time_ratio: Option<f64>,
    pub ratings: u32,
    pub rating_mean: Option<f64>,
    /// Ratings of 1 or 2.
    pub bad_ratings: u32,
    /// `bad_ratings / ratings` (none without ratings).
    pub bad_rating_share: Option<f64>,
    /// Complaints made in the period and upheld against them (whenever resolved).
    pub complaints_upheld: u32,
    pub late: u32,
    pub early: u32,
    /// Rostered days with no sign-in (and no approved leave).
    pub absent: u32,
    pub long_pauses: u32,
    pub pause_mins: i64,
    /// Days with approved leave (whole or part).
    pub leave_days: u32,
    /// Tickets they completed for services that require the identity step, and of those how
    /// many had it done.
    pub identity_required: u32,
    pub identity_checked: u32,
    pub out_of_order_calls: u32,
    /// Tickets whose service they extended.
    pub extended: u32,
    pub training_hours: f64,
}

/// What a rule or a weight can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Late,
    Early,
    Absent,
    LongPause,
    ComplaintUpheld,
    BadRating,
    OutOfOrderCall,
    IdentityMissed,
}

impl Measure {
    pub const ALL: [Measure; 8] = [
        Measure::Late,
        Measure::Early,
        Measure::Absent,
        Measure::LongPause,
        Measure::ComplaintUpheld,
        Measure::BadRating,
        Measure::OutOfOrderCall,
        Measure::IdentityMissed,
    ];

    /// How many of this a person's figures count.
    pub fn count(self, f: &Figures) -> u32 {
        match self {
            Measure::Late => f.late,
            Measure::Early => f.early,
            Measure::Absent => f.absent,
            Measure::LongPause => f.long_pauses,
            Measure::ComplaintUpheld => f.complaints_upheld,
            Measure::BadRating => f.bad_ratings,
            Measure::OutOfOrderCall => f.out_of_order_calls,
            Measure::IdentityMissed => f.identity_required.saturating_sub(f.identity_checked),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Late => "late",
            Measure::Early => "early",
            Measure::Absent => "absent",
            Measure::LongPause => "long_pause",
            Measure::ComplaintUpheld => "complaint_upheld",
            Measure::BadRating => "bad_rating",
            Measure::OutOfOrderCall => "out_of_order_call",
            Measure::IdentityMissed => "identity_missed",
        }
    }
}

/// One weight: the points each counted `measure` costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    pub measure: Measure,
    pub points: f64,
}

/// A grade and the lowest score that earns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub name: String,
    pub min_score: f64,
}

/// A step of the ladder: `at_least` of `measure` in a period proposes a record of `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Names the rule in records: letters, digits, `-` and `_`.
    pub key: String,
    pub measure: Measure,
    pub at_least: u32,
    /// The consequence, in the hall's words ("口头提醒", "书面警告", …).
    pub level: String,
}

/// A branch's weights, grades and ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub weights: Vec<Weight>,
    /// Highest threshold first once checked; the lowest must be 0 so every score has a grade.
    pub grades: Vec<Grade>,
    pub rules: Vec<Rule>,
}

impl Default for Settings {
    fn default() -> Self {
        let w = |measure, points| Weight { measure, points };
        let g = |name: &str, min_score| Grade {
            name: name.to_owned(),
            min_score,
        };
        let r = |key: &str, measure, at_least, level: &str| Rule {
            key: key.to_owned(),
            measure,
            at_least,
            level: level.to_owned(),
        };
        Settings {
            weights: vec![
                w(Measure::Late, 2.0),
                w(Measure::Early, 2.0),
                w(Measure::Absent, 5.0),
                w(Measure::LongPause, 1.0),
                w(Measure::ComplaintUpheld, 10.0),
                w(Measure::BadRating, 1.0),
                w(Measure::OutOfOrderCall, 1.0),
                w(Measure::IdentityMissed, 2.0),
            ],
            grades: vec![
                g("优秀", 95.0),
                g("良好", 85.0),
                g("合格", 70.0),
                g("待改进", 0.0),
            ],
            rules: vec![
                r("late-3", Measure::Late, 3, "口头提醒"),
                r("absent-2", Measure::Absent, 2, "书面警告"),
                r("complaint-2", Measure::ComplaintUpheld, 2, "书面警告"),
            ],
        }
    }
}

impl Settings {
    /// Checks a manager's settings; the message says what is wrong. Grades come back highest
    /// first.
    pub fn checked(mut self) -> Result<Settings, String> {
        let mut seen = Vec::new();
        for w in &self.weights {
            if !(w.points.is_finite() && (0.0..=100.0).contains(&w.points)) {
                return Err("a weight is 0 to 100 points".into());
            }
            if seen.contains(&w.measure) {
                return Err(format!("{} is weighted twice", w.measure.as_str()));
            }
            seen.push(w.measure);
        }
        if self.grades.is_empty() || self.grades.len() > 8 {
            return Err("there are 1 to 8 grades".into());
        }
        for (i, g) in self.grades.iter().enumerate() {
            let n = g.name.trim().chars().count();
            if n == 0 || n > 20 {
                return Err("a grade's name is 1 to 20 characters".into());
            }
            if !(g.min_score.is_finite() && (0.0..=100.0).contains(&g.min_score)) {
                return Err("a grade's threshold is 0 to 100".into());
            }
            if self.grades[..i]
                .iter()
                .any(|o| o.name.trim() == g.name.trim())
            {
                return Err(format!("the grade {} is named twice", g.name.trim()));
            }
        }
        if !self.grades.iter().any(|g| g.min_score == 0.0) {
            return Err("the lowest grade starts at 0, so every score has one".into());
        }
        self.grades
            .sort_by(|a, b| b.min_score.total_cmp(&a.min_score));
        if self
            .grades
            .windows(2)
            .any(|p| p[0].min_score == p[1].min_score)
        {
            return Err("two grades have the same threshold".into());
        }
        if self.rules.len() > 20 {
            return Err("there are at most 20 rules".into());
        }
        for (i, r) in self.rules.iter().enumerate() {
            let key_ok = !r.key.is_empty()
                && r.key.len() <= 40
                && r.key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !key_ok {
                return Err("a rule's key is 1 to 40 letters, digits, - or _".into());
            }
            if self.rules[..i].iter().any(|o| o.key == r.key) {
                return Err(format!("the rule {} is there twice", r.key));
            }
            if !(1..=100).contains(&r.at_least) {
                return Err("a rule counts 1 to 100".into());
            }
            let n = r.level.trim().chars().count();
            if n == 0 || n > 40 {
                return Err("a rule's consequence is 1 to 40 characters".into());
            }
        }
        for g in &mut self.grades {
            g.name = g.name.trim().to_owned();
        }
        for r in &mut self.rules {
            r.level = r.level.trim().to_owned();
        }
        Ok(self)
    }

    /// The points `measure` costs each time.
    pub fn points(&self, measure: Measure) -> f64 {
        self.weights
            .iter()
            .find(|w| w.measure == measure)
            .map_or(0.0, |w| w.points)
    }
}

/// One line of the score's working: `count` of `measure` at `points` each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deduction {
    pub measure: Measure,
    pub count: u32,
    pub points: f64,
    pub total: f64,
}

/// The score and how it came about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub score: f64,
    pub grade: String,
    /// Only the measures that cost points.
    pub deductions: Vec<Deduction>,
}

/// 100 less the weighted lapses, never below 0, rounded to a tenth; the grade its threshold
/// earns (settings as [`Settings::checked`] gives them).
pub fn score(settings: &Settings, f: &Figures) -> Scored {
    let deductions: Vec<Deduction> = Measure::ALL
        .iter()
        .map(|&m| {
            let count = m.count(f);
            let points = settings.points(m);
            Deduction {
                measure: m,
                count,
                points,
                total: f64::from(count) * points,
            }
        })
        .filter(|d| d.total > 0.0)
        .collect();
    let lost: f64 = deductions.iter().map(|d| d.total).sum();
    let score = ((100.0 - lost).max(0.0) * 10.0).round() / 10.0;
    let grade = settings
        .grades
        .iter()
        .find(|g| score >= g.min_score)
        .or(settings.grades.last())
        .map(|g| g.name.clone())
        .unwrap_or_default();
    Scored {
        score,
        grade,
        deductions,
    }
}

/// What the ladder proposes for one person's period: each rule whose count is reached, once.
pub fn proposals<'a>(settings: &'a Settings, f: &Figures) -> Vec<(&'a Rule, u32)> {
    settings
        .rules
        .iter()
        .filter_map(|r| {
            let n = r.measure.count(f);
            (n >= r.at_least).then_some((r, n))
        })
        .collect()
}

/// The median of `values` (the lower middle of an even count), none when empty.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month() -> Figures {
        Figures {
            served: 40,
            late: 2,
            absent: 2,
            complaints_upheld: 1,
            bad_ratings: 3,
            ratings: 10,
            ..Figures::default()
        }
    }

    #[test]
    fn lapses_cost_their_weights_and_the_score_earns_its_grade() {
        let s = Settings::default().checked().unwrap();
        let got = score(&s, &month());
        // 2 late × 2 + 2 absent × 5 + 1 upheld × 10 + 3 bad ratings × 1 = 27.
        assert_eq!(got.score, 73.0);
        assert_eq!(got.grade, "合格");
        assert_eq!(got.deductions.len(), 4);
        let perfect = score(&s, &Figures::default());
        assert_eq!((perfect.score, perfect.grade.as_str()), (100.0, "优秀"));
        let awful = score(
            &s,
            &Figures {
                absent: 30,
                ..Figures::default()
            },
        );
        assert_eq!((awful.score, awful.grade.as_str()), (0.0, "待改进"));
    }

    #[test]
    fn a_rule_proposes_once_its_count_is_reached() {
        let s = Settings::default().checked().unwrap();
        let mut f = month();
        let keys = |f: &Figures| {
            proposals(&s, f)
                .iter()
                .map(|(r, _)| r.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&f), ["absent-2"]);
        f.late = 3;
        assert_eq!(keys(&f), ["late-3", "absent-2"]);
        f.late = 7;
        assert_eq!(keys(&f), ["late-3", "absent-2"], "once, however far past");
    }

    #[test]
    fn settings_that_leave_a_score_without_a_grade_or_repeat_a_rule_are_refused() {
        let mut s = Settings::default();
        s.grades.retain(|g| g.min_score > 0.0);
        assert!(s.checked().is_err());
        let mut s = Settings::default();
        s.rules.push(s.rules[0].clone());
        assert!(s.checked().is_err());
        let mut s = Settings::default();
        s.weights[0].points = -1.0;
        assert!(s.checked().is_err());
        let mut s = Settings::default();
        s.grades.reverse();
        assert_eq!(s.checked().unwrap().grades[0].name, "优秀");
    }

    #[test]
    fn the_median_is_the_lower_middle() {
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(median(&mut []), None);
    }
}
