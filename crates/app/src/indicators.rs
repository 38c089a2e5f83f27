//! Indicators (the mission dashboard) and public statistics.
//!
//! The dashboard is scoped like the reads: figures about cases need `case_read` (the mediator),
//! and a caller without it gets them withheld and named in `withheld`, like the parts of a case
//! in [`crate::sight`]; figures about child records are counted within the caller's scope (a
//! party its own records, the mediator all submitted). The counting is aggregate SQL in the
//! store; here are only the sums and medians over its small results.
//!
//! Public statistics are published by an administrator of the mediator (those who manage
//! parties): national totals of cases as they stood `lag_days` before publication, by state
//! and sex and by age band and sex, suppressed and rounded by
//! [`homeward_domain::disclosure_stats`], stored as published and read without sign-in.

use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use homeward_domain::disclosure_stats::{CountTable, ProtectedTable, protect};
use homeward_domain::{AuditAction, CaseState, Permission, ValidationErrors};
use homeward_store::indicators::{
    AGE_BANDS, CaseIndicators, GroupCount, IndicatorFilter, RecordIndicators, SpellCount,
    StatisticsSnapshotDraft,
};
use serde::{Deserialize, Serialize};

/// The publication lag when none is given.
pub const DEFAULT_LAG_DAYS: i32 = 30;
/// The shortest lag accepted: a snapshot of this week could tell of a handover that just happened.
pub const MIN_LAG_DAYS: i32 = 7;
/// The sexes figures are broken down by, as the records keep them.
pub const SEXES: [&str; 3] = ["female", "male", "unknown"];
/// The kinds of child record: children sought and children held.
const SOUGHT: &str = "tracing_request";
const HELD: &str = "custody_record";
/// A round is a transfer list's id; anything longer is not one.
const ROUND_MAX: usize = 64;

/// The dashboard's filters: a period (days, `until` included) and a round (a transfer list).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IndicatorQuery {
    /// Cases opened (records filed) on or after this day.
    pub from: Option<NaiveDate>,
    /// …and on or before this day.
    pub until: Option<NaiveDate>,
    /// Only cases on this transfer list (its id).
    pub round: Option<String>,
}

/// A part of the dashboard that needs its own permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IndicatorPart {
    /// Figures about cases (`case_read`).
    Cases,
}

/// One case state: how many cases are in it now, and the median days a case spent in it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateFigure {
    pub state: CaseState,
    pub cases: i64,
    /// Over completed spells only; `None` when no case has left the state yet.
    pub median_days: Option<f64>,
    /// How many completed spells the median is over.
    pub spells: i64,
}

/// Children sought, held and in cases, for one sex or age band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    /// A sex (`female`, `male`, `unknown`) or an age band (`0-4` … `18+`, `unknown`).
    pub group: String,
    pub sought: i64,
    pub held: i64,
    /// `None` when case figures are withheld.
    pub cases: Option<i64>,
}

/// One month: records filed (sought, held) and children handed over (returns).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthFigure {
    /// `YYYY-MM`.
    pub month: String,
    pub sought: i64,
    pub held: i64,
    /// `None` when case figures are withheld.
    pub returns: Option<i64>,
}

/// The mission dashboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicators {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub round: Option<String>,
    /// Child records within the caller's scope: tracing requests.
    pub sought: i64,
    /// …and custody records.
    pub held: i64,
    /// Every case state, main line first; empty when withheld.
    pub states: Vec<StateFigure>,
    /// Cases with a follow-up visit overdue; `None` when withheld.
    pub overdue_follow_ups: Option<i64>,
    pub by_sex: Vec<Breakdown>,
    pub by_age_band: Vec<Breakdown>,
    pub months: Vec<MonthFigure>,
    /// What the caller may not see.
    pub withheld: Vec<IndicatorPart>,
}

/// The public statistics as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicTables {
    /// The day the figures describe (publication day minus the lag).
    pub as_of: NaiveDate,
    /// Cases by state (side exits together as `other`) and sex.
    pub by_state: ProtectedTable,
    /// Cases by age band and sex.
    pub by_age_band: ProtectedTable,
}

/// A published snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicStatistics {
    pub published_on: NaiveDate,
    pub lag_days: i32,
    #[serde(flatten)]
    pub tables: PublicTables,
}

/// The median of a histogram of whole days, `(days, how many)` in any order.
pub fn median_days(histogram: &[(i64, i64)]) -> Option<f64> {
    let mut h: Vec<(i64, i64)> = histogram.iter().copied().filter(|(_, n)| *n > 0).collect();
    h.sort_unstable();
    let total: i64 = h.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // The values at 0-based positions (total-1)/2 and total/2, averaged.
    let at = |pos: i64| {
        let mut seen = 0;
        h.iter()
            .find(|(_, n)| {
                seen += n;
                seen > pos
            })
            .map_or(0, |(d, _)| *d)
    };
    Some((at((total - 1) / 2) + at(total / 2)) as f64 / 2.0)
}

/// The public row of a case state: the main line as is, every side exit as `other`.
fn public_state(state: &str) -> &str {
    match state.parse::<CaseState>() {
        Ok(s) if CaseState::MAIN_LINE.contains(&s) => state,
        _ => "other",
    }
}

/// Counts `(row, column)` pairs into a table with the given row and column labels.
fn count_table(
    rows: Vec<String>,
    counts: &[GroupCount],
    key: impl Fn(&GroupCount) -> String,
) -> CountTable {
    let columns: Vec<String> = SEXES.iter().map(|s| (*s).to_owned()).collect();
    let mut cells = vec![vec![0u64; columns.len()]; rows.len()];
    for g in counts {
        let r = rows.iter().position(|x| *x == key(g));
        let c = columns
            .iter()
            .position(|x| *x == g.sex)
            .unwrap_or(columns.len() - 1);
        if let Some(r) = r {
            cells[r][c] += u64::try_from(g.count).unwrap_or(0);
        }
    }
    CountTable {
        rows,
        columns,
        cells,
    }
}

/// The public tables from the exact counts at `as_of`: pure, so the publication and its tests
/// agree on what is published.
pub fn public_tables(as_of: NaiveDate, counts: &[GroupCount]) -> PublicTables {
    let mut states: Vec<String> = CaseState::MAIN_LINE
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    states.push("other".to_owned());
    let bands: Vec<String> = AGE_BANDS.iter().map(|b| (*b).to_owned()).collect();
    PublicTables {
        as_of,
        by_state: protect(&count_table(states, counts, |g| {
            public_state(&g.group).to_owned()
        })),
        by_age_band: protect(&count_table(bands, counts, |g| g.age_band.clone())),
    }
}

fn sum(counts: &[GroupCount], pick: impl Fn(&GroupCount) -> bool) -> i64 {
    counts.iter().filter(|g| pick(g)).map(|g| g.count).sum()
}

impl IndicatorQuery {
    fn filter(&self, now: DateTime<Utc>) -> AppResult<IndicatorFilter> {
        if let (Some(f), Some(u)) = (self.from, self.until)
            && f > u
        {
            return Err(AppError::Validation(ValidationErrors::single(
                "until",
                "period_reversed",
                "the end of the period is before its start",
            )));
        }
        let round = self
            .round
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if round.is_some_and(|r| r.chars().count() > ROUND_MAX) {
            return Err(AppError::Validation(ValidationErrors::single(
                "round",
                "too_long",
                format!("a round is a transfer list's id, at most {ROUND_MAX} characters"),
            )));
        }
        let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        Ok(IndicatorFilter {
            from: self.from.and_then(start),
            until: self.until.and_then(|d| d.succ_opt()).and_then(start),
            round: round.map(str::to_owned),
            today: now.date_naive(),
            age_year: now.year(),
            exact: false,
        })
    }
}

fn state_figures(cases: &CaseIndicators) -> Vec<StateFigure> {
    CaseState::ALL
        .into_iter()
        .map(|st| {
            let here: Vec<&SpellCount> = cases
                .spells
                .iter()
                .filter(|s| s.state == st.as_str())
                .collect();
            let hist: Vec<(i64, i64)> = here.iter().map(|s| (s.days, s.count)).collect();
            StateFigure {
                state: st,
                cases: sum(&cases.by_state, |g| g.group == st.as_str()),
                median_days: median_days(&hist),
                spells: hist.iter().map(|(_, n)| n).sum(),
            }
        })
        .collect()
}

fn breakdown(
    groups: Vec<String>,
    records: &RecordIndicators,
    cases: Option<&CaseIndicators>,
    key: impl Fn(&GroupCount) -> &str,
) -> Vec<Breakdown> {
    groups
        .into_iter()
        .map(|g| Breakdown {
            sought: sum(&records.by_kind, |x| x.group == SOUGHT && key(x) == g),
            held: sum(&records.by_kind, |x| x.group == HELD && key(x) == g),
            cases: cases.map(|c| sum(&c.by_state, |x| key(x) == g)),
            group: g,
        })
        .collect()
}

fn months(records: &RecordIndicators, cases: Option<&CaseIndicators>) -> Vec<MonthFigure> {
    let mut all: Vec<String> = records.filed.iter().map(|m| m.month.clone()).collect();
    if let Some(c) = cases {
        all.extend(c.returns.iter().map(|m| m.month.clone()));
    }
    all.sort();
    all.dedup();
    let of = |list: &[homeward_store::indicators::MonthCount], month: &str, group: &str| {
        list.iter()
            .filter(|m| m.month == month && m.group == group)
            .map(|m| m.count)
            .sum::<i64>()
    };
    all.into_iter()
        .map(|month| MonthFigure {
            sought: of(&records.filed, &month, SOUGHT),
            held: of(&records.filed, &month, HELD),
            returns: cases.map(|c| of(&c.returns, &month, "handed_over")),
            month,
        })
        .collect()
}

impl App {
    /// The mission dashboard for the caller: case figures for those who may read cases, record
    /// figures within the caller's scope. Audited as one read, with the filters.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn indicators(&self, caller: &Caller, q: &IndicatorQuery) -> AppResult<Indicators> {
        let sees_cases = caller.may(Permission::CaseRead);
        if !sees_cases {
            caller.require(Permission::RecordRead, &self.config)?;
        }
        let f = q.filter(self.now())?;
        let details = serde_json::json!({
            "from": q.from, "until": q.until, "round": f.round, "cases": sees_cases,
        });
        let audit = || {
            caller
                .audit(AuditAction::IndicatorsRead)
                .details(details.clone())
        };
        let records = self
            .store
            .record_indicators(caller.scope(), &f, audit())
            .await?;
        let cases = if sees_cases {
            Some(self.store.case_indicators(&f, audit()).await?)
        } else {
            None
        };
        let sexes = SEXES.iter().map(|s| (*s).to_owned()).collect();
        let bands = AGE_BANDS.iter().map(|s| (*s).to_owned()).collect();
        Ok(Indicators {
            from: q.from,
            until: q.until,
            sought: sum(&records.by_kind, |g| g.group == SOUGHT),
            held: sum(&records.by_kind, |g| g.group == HELD),
            states: cases.as_ref().map(state_figures).unwrap_or_default(),
            overdue_follow_ups: cases.as_ref().map(|c| c.overdue_follow_ups),
            by_sex: breakdown(sexes, &records, cases.as_ref(), |g| g.sex.as_str()),
            by_age_band: breakdown(bands, &records, cases.as_ref(), |g| g.age_band.as_str()),
            months: months(&records, cases.as_ref()),
            withheld: if sees_cases {
                vec![]
            } else {
                vec![IndicatorPart::Cases]
            },
            round: f.round,
        })
    }

    /// Publishes the public statistics as they stood `lag_days` (default 30) ago. Administrators
    /// of the mediator only; audited with the lag and the day described.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn publish_statistics(
        &self,
        caller: &Caller,
        lag_days: Option<i32>,
    ) -> AppResult<PublicStatistics> {
        caller.require(Permission::PartyManage, &self.config)?;
        let lag = lag_days.unwrap_or(DEFAULT_LAG_DAYS);
        if !(MIN_LAG_DAYS..=3650).contains(&lag) {
            return Err(AppError::Validation(ValidationErrors::single(
                "lag_days",
                "out_of_range",
                format!("the publication lag is between {MIN_LAG_DAYS} and 3650 days"),
            )));
        }
        let draft = StatisticsSnapshotDraft {
            id: uuid::Uuid::now_v7(),
            published_at: self.now(),
            published_by: caller.user().id,
            lag_days: lag,
        };
        let as_of = draft.as_of().date_naive();
        let publish = move |counts: &[GroupCount]| {
            serde_json::to_string(&public_tables(as_of, counts)).unwrap_or_default()
        };
        let audit = caller
            .audit(AuditAction::StatisticsPublish)
            .details(serde_json::json!({ "lag_days": lag, "as_of": as_of }));
        let stored = self
            .store
            .publish_statistics(draft, &publish, audit)
            .await?;
        snapshot_view(&stored)
    }

    /// The latest published statistics, exactly as published; for anyone, signed in or not.
    #[tracing::instrument(skip_all)]
    pub async fn public_statistics(&self) -> AppResult<Option<PublicStatistics>> {
        match self.store.latest_statistics().await? {
            Some(s) => snapshot_view(&s).map(Some),
            None => Ok(None),
        }
    }
}

fn snapshot_view(
    s: &homeward_store::indicators::StatisticsSnapshot,
) -> AppResult<PublicStatistics> {
    let tables: PublicTables = serde_json::from_str(&s.content).map_err(|e| {
        AppError::Store(homeward_store::StoreError::Corrupt(format!(
            "statistics snapshot {}: {e}",
            s.id
        )))
    })?;
    Ok(PublicStatistics {
        published_on: s.published_at.date_naive(),
        lag_days: s.lag_days,
        tables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_a_histogram() {
        assert_eq!(median_days(&[]), None);
        assert_eq!(median_days(&[(4, 1)]), Some(4.0));
        assert_eq!(median_days(&[(10, 1), (2, 1)]), Some(6.0));
        assert_eq!(median_days(&[(1, 3), (100, 2)]), Some(1.0));
        assert_eq!(median_days(&[(1, 2), (100, 2)]), Some(50.5));
    }

    #[test]
    fn side_exits_are_published_together_and_small_cells_never() {
        let g = |state: &str, sex: &str, band: &str, count: i64| GroupCount {
            group: state.into(),
            sex: sex.into(),
            age_band: band.into(),
            count,
        };
        let counts = vec![
            g("open", "female", "5-9", 40),
            g("open", "male", "5-9", 35),
            g("deceased", "female", "10-14", 1),
            g("withdrawn", "male", "10-14", 2),
            g("reunified", "female", "15-17", 3),
        ];
        let t = public_tables(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), &counts);
        let other = t.by_state.rows.iter().position(|r| r == "other").unwrap();
        assert!(t.by_state.rows.iter().all(|r| r != "deceased"));
        for row in t.by_state.cells.iter().chain(&t.by_age_band.cells) {
            for c in row {
                if let Some(v) = c.value() {
                    assert!(v >= 10);
                }
            }
        }
        assert_eq!(t.by_state.cells[other][0].value(), None);
        assert_eq!(t.by_state.cells[0][0].value(), Some(40));
    }
}
