//! Indicators (the mission dashboard) and public statistics: counts computed by aggregate SQL in
//! the database, never by loading every case, so that the dashboard answers in well under 100 ms
//! with 100,000 records stored.
//!
//! Cases take no scope (they are the mediator's, see [`crate::Store`]); the figures about child
//! records take the caller's [`Scope`] like every read of records. Every read is audited with the
//! entry it is given, in its own transaction.
//!
//! The state a case version was in is a generated column (`case_versions.state`, migration 0014);
//! each spell in a state is a row of `case_spells` (migration 0017, kept by a trigger),
//! so that time in each state and the state on a past day are read from an index.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use homeward_domain::{AuditDraft, Case, Scope, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The age bands figures are broken down by (age in whole years at the reference year), then
/// `unknown` for a child whose year of birth is not known.
pub const AGE_BANDS: [&str; 6] = ["0-4", "5-9", "10-14", "15-17", "18+", "unknown"];

/// Which cases and records the figures are about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorFilter {
    /// Cases opened (records filed) at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// …and before this one.
    pub until: Option<DateTime<Utc>>,
    /// Only cases on this transfer list (the negotiated round); does not apply to records.
    pub round: Option<String>,
    /// Follow-ups due before this day are overdue.
    pub today: NaiveDate,
    /// Ages are counted at this year.
    pub age_year: i32,
    /// Count everything from the rows, not from the running tallies: the check the tallies are
    /// held against (the conformance suite, `homeward bench indicators`).
    pub exact: bool,
}

/// How many cases (or records) share a state (or kind), a sex and an age band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCount {
    /// A case state, or a record kind for records.
    pub group: String,
    pub sex: String,
    pub age_band: String,
    pub count: i64,
}

/// How many spells in `state` (entered, then left) lasted `days` whole days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpellCount {
    pub state: String,
    pub days: i64,
    pub count: i64,
}

/// How many of something happened in a month (`YYYY-MM`), per group (a record kind, or
/// `handed_over` for returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthCount {
    pub month: String,
    pub group: String,
    pub count: i64,
}

/// The case figures of the mission dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseIndicators {
    /// Cases by current state, sex and age band.
    pub by_state: Vec<GroupCount>,
    /// Completed spells in each state, by whole days.
    pub spells: Vec<SpellCount>,
    /// Cases by the month they were first handed over (group `handed_over`).
    pub returns: Vec<MonthCount>,
    /// Cases with a follow-up visit still open that was due before `today`.
    pub overdue_follow_ups: i64,
}

/// The record figures: children sought (tracing requests) and held (custody records).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordIndicators {
    /// Records by kind, sex and age band.
    pub by_kind: Vec<GroupCount>,
    /// Records filed per month, by kind.
    pub filed: Vec<MonthCount>,
}

/// A published snapshot of the public statistics, exactly as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatisticsSnapshot {
    pub id: Uuid,
    pub published_at: DateTime<Utc>,
    pub published_by: UserId,
    /// The moment the figures describe.
    pub as_of: DateTime<Utc>,
    pub lag_days: i32,
    /// The published tables as JSON text, byte for byte.
    pub content: String,
}

/// A case with its history, loaded in bulk by [`IndicatorStore::load_synthetic_cases`].
#[derive(Clone, Debug)]
pub struct SyntheticCase {
    /// Every version, oldest first, with the change's name, who made it and when; the last is
    /// the case as it stands.
    pub versions: Vec<(Case, &'static str, UserId, DateTime<Utc>)>,
}

/// Turns the exact counts into the content to publish (suppressed and rounded): the app's pure
/// rules, run inside the publishing transaction.
pub type Publish<'a> = &'a (dyn Fn(&[GroupCount]) -> String + Send + Sync);

#[async_trait]
pub trait IndicatorStore: Send + Sync {
    /// The case figures for the filter; `audit` is appended in the same transaction.
    async fn case_indicators(
        &self,
        filter: &IndicatorFilter,
        audit: AuditDraft,
    ) -> Result<CaseIndicators>;
    /// The figures about the child records within `scope` (nothing for [`Scope::Nothing`], and
    /// then nothing is audited either).
    async fn record_indicators(
        &self,
        scope: Scope,
        filter: &IndicatorFilter,
        audit: AuditDraft,
    ) -> Result<RecordIndicators>;
    /// Cases by the state they were in at `as_of` (their last version written by then), sex and
    /// age band (at `age_year`). Not audited: the publication that reads them is.
    async fn cases_as_of(&self, as_of: DateTime<Utc>, age_year: i32) -> Result<Vec<GroupCount>>;
    /// Publishes a snapshot in one transaction: counts the cases as at `as_of`, turns them into
    /// the content with `publish`, stores it and appends `audit` (given the snapshot's id).
    async fn publish_statistics(
        &self,
        snapshot: StatisticsSnapshotDraft,
        publish: Publish<'_>,
        audit: AuditDraft,
    ) -> Result<StatisticsSnapshot>;
    /// The latest published snapshot, if any. Not audited: it is public.
    async fn latest_statistics(&self) -> Result<Option<StatisticsSnapshot>>;
    /// Stores cases between existing records, with their histories, in bulk, with one audit
    /// entry listing every row written. For benchmarks and demos of synthetic data: the cases'
    /// guards are not checked here.
    async fn load_synthetic_cases(&self, cases: &[SyntheticCase], audit: AuditDraft) -> Result<()>;
}

/// What a publication is asked for.
#[derive(Clone, Debug)]
pub struct StatisticsSnapshotDraft {
    pub id: Uuid,
    pub published_at: DateTime<Utc>,
    pub published_by: UserId,
    pub lag_days: i32,
}

impl StatisticsSnapshotDraft {
    pub fn as_of(&self) -> DateTime<Utc> {
        self.published_at - chrono::Duration::days(i64::from(self.lag_days))
    }
}

/// The age band of a year of birth, as SQL, from the bound reference year `param`.
pub(crate) fn band_sql(birth_year: &str, param: &str) -> String {
    format!(
        "CASE WHEN {by} IS NULL THEN 'unknown' WHEN {p} - {by} < 5 THEN '0-4' \
         WHEN {p} - {by} < 10 THEN '5-9' WHEN {p} - {by} < 15 THEN '10-14' \
         WHEN {p} - {by} < 18 THEN '15-17' ELSE '18+' END",
        by = birth_year,
        p = param
    )
}

/// Opened (filed) at or after the first, before the second.
pub(crate) type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// How a period is counted: its whole months from the running tallies (migration 0022), the
/// part of a month at either end from the rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The months `[from, until)` (`YYYY-MM`, `None` open) read from the tallies, if any.
    pub tallies: Option<(Option<String>, Option<String>)>,
    /// Periods `[from, until)` counted from the rows.
    pub rows: Vec<Period>,
}

fn month_start(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    NaiveDate::from_ymd_opt(t.year(), t.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

fn next_month_start(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    month_start(t).and_then(|m| m.checked_add_months(chrono::Months::new(1)))
}

fn month_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

impl Plan {
    pub(crate) fn of(filter: &IndicatorFilter) -> Self {
        let whole = Plan {
            tallies: None,
            rows: vec![(filter.from, filter.until)],
        };
        if filter.exact || filter.round.is_some() {
            return whole;
        }
        // The first whole month starts at `from` or after it; the last ends at or before `until`.
        let first = match filter.from {
            Some(f) if month_start(f) == Some(f) => Some(f),
            Some(f) => match next_month_start(f) {
                Some(m) => Some(m),
                None => return whole,
            },
            None => None,
        };
        let end = match filter.until {
            Some(u) => match month_start(u) {
                Some(m) => Some(m),
                None => return whole,
            },
            None => None,
        };
        if let (Some(a), Some(b)) = (first, end)
            && a >= b
        {
            return whole;
        }
        let mut rows = Vec::new();
        if let (Some(f), Some(a)) = (filter.from, first)
            && f < a
        {
            rows.push((Some(f), Some(a)));
        }
        if let (Some(b), Some(u)) = (end, filter.until)
            && b < u
        {
            rows.push((Some(b), Some(u)));
        }
        Plan {
            tallies: Some((first.map(month_key), end.map(month_key))),
            rows,
        }
    }
}

/// Folds PostgreSQL's tally deltas (migration 0022), by table: each statement deletes the rows of the cells
/// that have more than one and puts back their sum, in one statement, so it moves exactly the
/// rows it sums even while other transactions append deltas.
pub(crate) const PG_FOLD: [(&str, &str); 4] = [
    (
        "case_tallies",
        "WITH many AS (SELECT month, state, sex, birth_year FROM case_tallies GROUP BY 1, 2, 3, 4 HAVING COUNT(*) > 1), \
     moved AS (DELETE FROM case_tallies t USING many m WHERE (t.month, t.state, t.sex, t.birth_year) = (m.month, m.state, m.sex, m.birth_year) \
     RETURNING t.month, t.state, t.sex, t.birth_year, t.n) \
     INSERT INTO case_tallies (month, state, sex, birth_year, n) \
     SELECT month, state, sex, birth_year, SUM(n) FROM moved GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0",
    ),
    (
        "spell_tallies",
        "WITH many AS (SELECT month, state, days FROM spell_tallies GROUP BY 1, 2, 3 HAVING COUNT(*) > 1), \
     moved AS (DELETE FROM spell_tallies t USING many m WHERE (t.month, t.state, t.days) = (m.month, m.state, m.days) \
     RETURNING t.month, t.state, t.days, t.n) \
     INSERT INTO spell_tallies (month, state, days, n) \
     SELECT month, state, days, SUM(n) FROM moved GROUP BY 1, 2, 3 HAVING SUM(n) <> 0",
    ),
    (
        "return_tallies",
        "WITH many AS (SELECT month, handed_over FROM return_tallies GROUP BY 1, 2 HAVING COUNT(*) > 1), \
     moved AS (DELETE FROM return_tallies t USING many m WHERE (t.month, t.handed_over) = (m.month, m.handed_over) \
     RETURNING t.month, t.handed_over, t.n) \
     INSERT INTO return_tallies (month, handed_over, n) \
     SELECT month, handed_over, SUM(n) FROM moved GROUP BY 1, 2 HAVING SUM(n) <> 0",
    ),
    (
        "record_tallies",
        "WITH many AS (SELECT month, kind, party_id, sex, birth_year FROM record_tallies GROUP BY 1, 2, 3, 4, 5 HAVING COUNT(*) > 1), \
     moved AS (DELETE FROM record_tallies t USING many m \
     WHERE (t.month, t.kind, t.party_id, t.sex, t.birth_year) = (m.month, m.kind, m.party_id, m.sex, m.birth_year) \
     RETURNING t.month, t.kind, t.party_id, t.sex, t.birth_year, t.n) \
     INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n) \
     SELECT month, kind, party_id, sex, birth_year, SUM(n) FROM moved GROUP BY 1, 2, 3, 4, 5 HAVING SUM(n) <> 0",
    ),
];

/// Adds counts of the same cell together, in the cells' order, dropping cells that come to
/// nothing: `split` takes a count apart into its cell and number, `join` puts them back.
fn merge<T, K: Ord>(
    parts: impl IntoIterator<Item = T>,
    split: impl Fn(T) -> (K, i64),
    join: impl Fn(K, i64) -> T,
) -> Vec<T> {
    let mut cells = std::collections::BTreeMap::<K, i64>::new();
    for part in parts {
        let (cell, n) = split(part);
        *cells.entry(cell).or_default() += n;
    }
    cells
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(cell, n)| join(cell, n))
        .collect()
}

pub(crate) fn merge_groups(parts: impl IntoIterator<Item = GroupCount>) -> Vec<GroupCount> {
    merge(
        parts,
        |g| ((g.group, g.sex, g.age_band), g.count),
        |(group, sex, age_band), count| GroupCount {
            group,
            sex,
            age_band,
            count,
        },
    )
}

pub(crate) fn merge_spells(parts: impl IntoIterator<Item = SpellCount>) -> Vec<SpellCount> {
    merge(
        parts,
        |s| ((s.state, s.days), s.count),
        |(state, days), count| SpellCount { state, days, count },
    )
}

/// In month order, as the reads give them.
pub(crate) fn merge_months(parts: impl IntoIterator<Item = MonthCount>) -> Vec<MonthCount> {
    merge(
        parts,
        |m| ((m.month, m.group), m.count),
        |(month, group), count| MonthCount {
            month,
            group,
            count,
        },
    )
}

/// Implements [`IndicatorStore`] for `$store` (database `$db`). The backends differ in three
/// expressions: `$list_ref` (a case's transfer list from `c.content`), `$month` (the `YYYY-MM`
/// of the column `{}`), `$sex_born` (how a case's record is joined: SQLite is told to read
/// the covering index `records_sex_born`, which its planner passes over for the primary key) and
/// `$fold`, the statements that fold the tallies' deltas into one row per cell (none on SQLite,
/// whose triggers update cells in place; see migration 0022 of each backend).
///
/// Time in each state and the first handovers are read from `case_spells` (migration 0017),
/// which a trigger keeps as case versions are written.
macro_rules! impl_indicators {
    ($store:ident, $db:ty, $list_ref:expr, $month:literal, $sex_born:literal, $fold:expr) => {
        mod indicators_impl {
            use super::$store;
            use crate::backend::scope_party;
            use crate::indicators::{
                band_sql, merge_groups, merge_months, merge_spells, CaseIndicators, GroupCount, IndicatorFilter,
                IndicatorStore, MonthCount, Period, Plan, Publish,
                RecordIndicators, SpellCount, StatisticsSnapshot, StatisticsSnapshotDraft, SyntheticCase,
            };
            use crate::rowhash::new_case_rows_hashes;
            use crate::rows::ts;
            use crate::backend::BULK_ROWS;
            use crate::{Result, StoreError};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use homeward_domain::{AuditDraft, Scope, UserId};
            use sqlx::types::Json;
            use sqlx::QueryBuilder;
            use uuid::Uuid;

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            /// The cases a filter keeps, as a condition on `c`: `$1` from, `$2` until, `$3` round.
            fn case_filter() -> String {
                format!(
                    "($1 IS NULL OR c.created_at >= $1) AND ($2 IS NULL OR c.created_at < $2) \
                     AND ($3 IS NULL OR {} = $3)",
                    $list_ref
                )
            }

            fn group_counts(rows: Vec<(String, String, String, i64)>) -> Vec<GroupCount> {
                rows.into_iter()
                    .map(|(group, sex, age_band, count)| GroupCount { group, sex, age_band, count })
                    .collect()
            }

            fn spell_counts(rows: Vec<(String, i64, i64)>) -> Vec<SpellCount> {
                rows.into_iter().map(|(state, days, count)| SpellCount { state, days, count }).collect()
            }

            fn month_counts(rows: Vec<(String, String, i64)>) -> Vec<MonthCount> {
                rows.into_iter().map(|(month, group, count)| MonthCount { month, group, count }).collect()
            }

            /// Cases by state, sex and age band; the child's sex and year of birth are those of
            /// the tracing request, else of the custody record.
            fn by_state_sql(state: &str, from: &str, filter: &str, year: &str) -> String {
                format!(
                    "SELECT {state}, COALESCE(t.sex, k.sex, 'unknown'), {band}, COUNT(*) FROM {from} \
                     LEFT JOIN records t{sex_born} ON t.id = c.tracing_record_id \
                     LEFT JOIN records k{sex_born} ON k.id = c.custody_record_id \
                     WHERE {filter} GROUP BY 1, 2, 3",
                    band = band_sql("COALESCE(t.birth_year, k.birth_year)", year),
                    sex_born = $sex_born,
                )
            }

            /// The figures about cases that add up across periods.
            type CaseParts = (Vec<GroupCount>, Vec<SpellCount>, Vec<MonthCount>);

            /// `[$1, $2)` of months, as a condition on a tally's `month`.
            const MONTHS: &str = "($1 IS NULL OR month >= $1) AND ($2 IS NULL OR month < $2)";

            impl $store {
                async fn case_figures(conn: &mut Conn, f: &IndicatorFilter) -> Result<CaseIndicators> {
                    let plan = Plan::of(f);
                    let (mut groups, mut spells, mut months) = (Vec::new(), Vec::new(), Vec::new());
                    if let Some(m) = &plan.tallies {
                        Self::fold_tallies(conn, &["case_tallies", "spell_tallies", "return_tallies"]).await?;
                        let (g, s, r) = Self::case_tallies(conn, m, f.age_year).await?;
                        groups.extend(g);
                        spells.extend(s);
                        months.extend(r);
                    }
                    for period in &plan.rows {
                        let (g, s, r) = Self::case_rows(conn, *period, f.round.as_deref(), f.age_year).await?;
                        groups.extend(g);
                        spells.extend(s);
                        months.extend(r);
                    }
                    let overdue: i64 = sqlx::query_scalar(&format!(
                        "SELECT COUNT(*) FROM cases c WHERE c.follow_up_due IS NOT NULL AND c.follow_up_due < $4 AND {}",
                        case_filter()
                    ))
                    .bind(f.from.map(ts)).bind(f.until.map(ts)).bind(f.round.as_deref()).bind(f.today.to_string())
                    .fetch_one(&mut *conn).await?;
                    Ok(CaseIndicators {
                        by_state: merge_groups(groups),
                        spells: merge_spells(spells),
                        returns: merge_months(months),
                        overdue_follow_ups: overdue,
                    })
                }

                /// Folds the deltas a backend's triggers append to `tables` into one row per cell
                /// (PostgreSQL); nothing to do where the triggers update the cells in place (SQLite).
                async fn fold_tallies(conn: &mut Conn, tables: &[&str]) -> Result<()> {
                    for (table, statement) in $fold {
                        if tables.contains(&table) {
                            sqlx::query(statement).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                }

                /// The whole months `months` of the case figures, from the tallies.
                async fn case_tallies(conn: &mut Conn, months: &(Option<String>, Option<String>), age_year: i32) -> Result<CaseParts> {
                    let (from, until) = (months.0.as_deref(), months.1.as_deref());
                    let groups: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
                        "SELECT state, sex, {band}, CAST(SUM(n) AS BIGINT) FROM case_tallies WHERE {MONTHS} \
                         GROUP BY 1, 2, 3 HAVING SUM(n) <> 0",
                        band = band_sql("NULLIF(birth_year, -1)", "$3")
                    ))
                    .bind(from).bind(until).bind(age_year)
                    .fetch_all(&mut *conn).await?;
                    let spells: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
                        "SELECT state, days, CAST(SUM(n) AS BIGINT) FROM spell_tallies WHERE {MONTHS} \
                         GROUP BY 1, 2 HAVING SUM(n) <> 0"
                    ))
                    .bind(from).bind(until)
                    .fetch_all(&mut *conn).await?;
                    let returns: Vec<(String, String, i64)> = sqlx::query_as(&format!(
                        "SELECT handed_over, 'handed_over', CAST(SUM(n) AS BIGINT) FROM return_tallies WHERE {MONTHS} \
                         GROUP BY 1 HAVING SUM(n) <> 0 ORDER BY 1"
                    ))
                    .bind(from).bind(until)
                    .fetch_all(&mut *conn).await?;
                    Ok((group_counts(groups), spell_counts(spells), month_counts(returns)))
                }

                /// The case figures of the cases opened in `period` (and on `round`), from the rows.
                async fn case_rows(conn: &mut Conn, period: Period, round: Option<&str>, age_year: i32) -> Result<CaseParts> {
                    let filter = case_filter();
                    let (from, until) = (period.0.map(ts), period.1.map(ts));
                    let by_state: Vec<(String, String, String, i64)> =
                        sqlx::query_as(&by_state_sql("c.state", "cases c", &filter, "$4"))
                            .bind(from).bind(until).bind(round).bind(age_year)
                            .fetch_all(&mut *conn).await?;
                    // A spell starts at a version whose state differs from the previous one's and
                    // lasts until the next spell starts; spells still running are left out.
                    let spells_sql = format!(
                        "SELECT s.state, s.days, COUNT(*) FROM case_spells s JOIN cases c ON c.id = s.case_id \
                         WHERE s.left_at IS NOT NULL AND {filter} GROUP BY 1, 2"
                    );
                    let spells: Vec<(String, i64, i64)> = sqlx::query_as(&spells_sql)
                        .bind(from).bind(until).bind(round)
                        .fetch_all(&mut *conn).await?;
                    let returns_sql = format!(
                        "SELECT {month}, 'handed_over', COUNT(*) FROM (SELECT s.case_id, MIN(s.entered_at) AS at \
                         FROM case_spells s JOIN cases c ON c.id = s.case_id \
                         WHERE s.state = 'handed_over' AND {filter} GROUP BY s.case_id) h GROUP BY 1 ORDER BY 1",
                        month = format!($month, "h.at")
                    );
                    let returns: Vec<(String, String, i64)> = sqlx::query_as(&returns_sql)
                        .bind(from).bind(until).bind(round)
                        .fetch_all(&mut *conn).await?;
                    Ok((group_counts(by_state), spell_counts(spells), month_counts(returns)))
                }

                async fn record_figures(conn: &mut Conn, party: Option<Uuid>, f: &IndicatorFilter) -> Result<RecordIndicators> {
                    let plan = Plan::of(&IndicatorFilter { round: None, ..f.clone() });
                    let (mut by_kind, mut filed) = (Vec::new(), Vec::new());
                    if let Some(m) = &plan.tallies {
                        Self::fold_tallies(conn, &["record_tallies"]).await?;
                        let (k, m) = Self::record_tallies(conn, party, m, f.age_year).await?;
                        by_kind.extend(k);
                        filed.extend(m);
                    }
                    for period in &plan.rows {
                        let (k, m) = Self::record_rows(conn, party, *period, f.age_year).await?;
                        by_kind.extend(k);
                        filed.extend(m);
                    }
                    Ok(RecordIndicators { by_kind: merge_groups(by_kind), filed: merge_months(filed) })
                }

                async fn record_tallies(
                    conn: &mut Conn,
                    party: Option<Uuid>,
                    months: &(Option<String>, Option<String>),
                    age_year: i32,
                ) -> Result<(Vec<GroupCount>, Vec<MonthCount>)> {
                    let (from, until) = (months.0.as_deref(), months.1.as_deref());
                    let filter = format!("{MONTHS} AND ($3 IS NULL OR party_id = $3)");
                    let by_kind: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
                        "SELECT kind, sex, {band}, CAST(SUM(n) AS BIGINT) FROM record_tallies WHERE {filter} \
                         GROUP BY 1, 2, 3 HAVING SUM(n) <> 0",
                        band = band_sql("NULLIF(birth_year, -1)", "$4")
                    ))
                    .bind(from).bind(until).bind(party).bind(age_year)
                    .fetch_all(&mut *conn).await?;
                    let filed: Vec<(String, String, i64)> = sqlx::query_as(&format!(
                        "SELECT month, kind, CAST(SUM(n) AS BIGINT) FROM record_tallies WHERE {filter} \
                         GROUP BY 1, 2 HAVING SUM(n) <> 0 ORDER BY 1, 2"
                    ))
                    .bind(from).bind(until).bind(party)
                    .fetch_all(&mut *conn).await?;
                    Ok((group_counts(by_kind), month_counts(filed)))
                }

                async fn record_rows(
                    conn: &mut Conn,
                    party: Option<Uuid>,
                    period: Period,
                    age_year: i32,
                ) -> Result<(Vec<GroupCount>, Vec<MonthCount>)> {
                    let (from, until) = (period.0.map(ts), period.1.map(ts));
                    let filter = "deleted_at IS NULL AND ($1 IS NULL OR party_id = $1) \
                                  AND ($2 IS NULL OR created_at >= $2) AND ($3 IS NULL OR created_at < $3)";
                    let by_kind: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
                        "SELECT kind, sex, {band}, COUNT(*) FROM records WHERE {filter} GROUP BY 1, 2, 3",
                        band = band_sql("birth_year", "$4")
                    ))
                    .bind(party).bind(from).bind(until).bind(age_year)
                    .fetch_all(&mut *conn).await?;
                    let filed: Vec<(String, String, i64)> = sqlx::query_as(&format!(
                        "SELECT {month}, kind, COUNT(*) FROM records WHERE {filter} GROUP BY 1, 2 ORDER BY 1, 2",
                        month = format!($month, "created_at")
                    ))
                    .bind(party).bind(from).bind(until)
                    .fetch_all(&mut *conn).await?;
                    Ok((group_counts(by_kind), month_counts(filed)))
                }

                async fn as_of_in(conn: &mut Conn, as_of: DateTime<Utc>, age_year: i32) -> Result<Vec<GroupCount>> {
                    let from = "(SELECT cv.case_id, cv.state, ROW_NUMBER() OVER \
                                (PARTITION BY cv.case_id ORDER BY cv.version DESC) AS rn \
                                FROM case_versions cv WHERE cv.changed_at <= $1) l JOIN cases c ON c.id = l.case_id";
                    let rows: Vec<(String, String, String, i64)> =
                        sqlx::query_as(&by_state_sql("l.state", from, "l.rn = 1", "$2"))
                            .bind(ts(as_of)).bind(age_year)
                            .fetch_all(&mut *conn).await?;
                    Ok(group_counts(rows))
                }
            }

            #[derive(sqlx::FromRow)]
            struct SnapshotRow {
                id: Uuid,
                published_at: DateTime<Utc>,
                published_by: Uuid,
                as_of: DateTime<Utc>,
                lag_days: i32,
                content: String,
            }

            #[async_trait]
            impl IndicatorStore for $store {
                async fn case_indicators(&self, filter: &IndicatorFilter, audit: AuditDraft) -> Result<CaseIndicators> {
                    let mut tx = self.begin_write().await?;
                    let figures = Self::case_figures(&mut tx, filter).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(figures)
                }

                async fn record_indicators(&self, scope: Scope, filter: &IndicatorFilter, audit: AuditDraft) -> Result<RecordIndicators> {
                    let Some(party) = scope_party(scope) else {
                        return Ok(RecordIndicators::default());
                    };
                    let mut tx = self.begin_write().await?;
                    let figures = Self::record_figures(&mut tx, party, filter).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(figures)
                }

                async fn cases_as_of(&self, as_of: DateTime<Utc>, age_year: i32) -> Result<Vec<GroupCount>> {
                    let mut conn = self.pool.acquire().await?;
                    Self::as_of_in(&mut *conn, as_of, age_year).await
                }

                async fn publish_statistics(&self, draft: StatisticsSnapshotDraft, publish: Publish<'_>, audit: AuditDraft) -> Result<StatisticsSnapshot> {
                    let as_of = ts(draft.as_of());
                    let mut tx = self.begin_write().await?;
                    let counts = Self::as_of_in(&mut tx, as_of, chrono::Datelike::year(&as_of)).await?;
                    let snapshot = StatisticsSnapshot {
                        id: draft.id,
                        published_at: ts(draft.published_at),
                        published_by: draft.published_by,
                        as_of,
                        lag_days: draft.lag_days,
                        content: publish(&counts),
                    };
                    sqlx::query(
                        "INSERT INTO statistics_snapshots (id, published_at, published_by, as_of, lag_days, content) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(snapshot.id).bind(snapshot.published_at).bind(snapshot.published_by.0)
                    .bind(snapshot.as_of).bind(snapshot.lag_days).bind(snapshot.content.as_str())
                    .execute(&mut *tx).await?;
                    let audit = AuditDraft {
                        target_kind: Some("statistics_snapshot".to_owned()),
                        target_id: Some(snapshot.id.to_string()),
                        ..audit
                    };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(snapshot)
                }

                async fn latest_statistics(&self) -> Result<Option<StatisticsSnapshot>> {
                    let row = sqlx::query_as::<Db, SnapshotRow>(
                        "SELECT id, published_at, published_by, as_of, lag_days, content FROM statistics_snapshots \
                         ORDER BY published_at DESC, id DESC LIMIT 1",
                    )
                    .fetch_optional(&self.pool).await?;
                    Ok(row.map(|r| StatisticsSnapshot {
                        id: r.id,
                        published_at: r.published_at,
                        published_by: UserId(r.published_by),
                        as_of: r.as_of,
                        lag_days: r.lag_days,
                        content: r.content,
                    }))
                }

                async fn load_synthetic_cases(&self, cases: &[SyntheticCase], audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let mut hashes = Vec::new();
                    // Numbers in the order the cases were opened, from each year's counter.
                    let mut order: Vec<usize> = (0..cases.len()).collect();
                    let opened = |i: usize| cases[i].versions.first().map(|v| (v.3, v.0.id));
                    order.sort_by_key(|i| opened(*i));
                    let mut per_year: std::collections::BTreeMap<i32, i64> = Default::default();
                    for i in &order {
                        if let Some((at, _)) = opened(*i) {
                            *per_year.entry(chrono::Datelike::year(&at)).or_default() += 1;
                        }
                    }
                    let mut next: std::collections::BTreeMap<i32, i64> = Default::default();
                    for (year, n) in per_year {
                        let last = Self::reserve_case_numbers_in(&mut tx, year, n).await?;
                        next.insert(year, last - n + 1);
                    }
                    let mut numbers = vec![String::new(); cases.len()];
                    for i in order {
                        if let Some((at, _)) = opened(i) {
                            let year = chrono::Datelike::year(&at);
                            let seq = next.entry(year).or_default();
                            numbers[i] = crate::case_search::number_of(year, *seq)?.to_string();
                            *seq += 1;
                        }
                    }
                    for (chunk, numbers) in cases.chunks(BULK_ROWS / 2).zip(numbers.chunks(BULK_ROWS / 2)) {
                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO cases (id, tracing_record_id, custody_record_id, state, content, version, created_at, updated_at, follow_up_due, number) ",
                        );
                        let mut bad = None;
                        qb.push_values(chunk.iter().zip(numbers), |mut b, (s, number): (&SyntheticCase, &String)| {
                            let (Some(first), Some(last)) = (s.versions.first(), s.versions.last()) else {
                                bad = Some("a synthetic case without versions");
                                return;
                            };
                            let c = &last.0;
                            b.push_bind(c.id.0)
                                .push_bind(c.tracing_request.map(|r| r.0))
                                .push_bind(c.custody_record.map(|r| r.0))
                                .push_bind(c.state.as_str())
                                .push_bind(Json(c.clone()))
                                .push_bind(s.versions.len() as i64)
                                .push_bind(ts(first.3))
                                .push_bind(ts(last.3))
                                .push_bind(c.next_follow_up_due(last.3).map(|d| d.to_string()))
                                .push_bind(number.clone());
                        });
                        if let Some(why) = bad {
                            return Err(StoreError::Corrupt(why.to_owned()));
                        }
                        qb.build().execute(&mut *tx).await?;
                        let versions: Vec<(usize, &SyntheticCase)> = chunk
                            .iter()
                            .flat_map(|s| (0..s.versions.len()).map(move |i| (i, s)))
                            .collect();
                        for vchunk in versions.chunks(BULK_ROWS) {
                            let mut qb = QueryBuilder::<Db>::new(
                                "INSERT INTO case_versions (case_id, version, content, change, changed_by, changed_at) ",
                            );
                            qb.push_values(vchunk, |mut b, (i, s)| {
                                let (c, change, by, at) = &s.versions[*i];
                                b.push_bind(c.id.0)
                                    .push_bind(*i as i64 + 1)
                                    .push_bind(Json(c.clone()))
                                    .push_bind(*change)
                                    .push_bind(by.0)
                                    .push_bind(ts(*at));
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        for s in chunk {
                            hashes.extend(new_case_rows_hashes(&s.versions)?);
                        }
                    }
                    let mut drafts = vec![audit.details(serde_json::json!({ "cases": cases.len() }))];
                    crate::rowhash::attach_writes(&mut drafts, hashes);
                    Self::append(&mut tx, drafts).await?;
                    tx.commit().await?;
                    Ok(())
                }
            }
        }
    };
}

pub(crate) use impl_indicators;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .map(|t| t.and_utc())
            .unwrap()
    }

    fn filter(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> IndicatorFilter {
        IndicatorFilter {
            from,
            until,
            round: None,
            today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            age_year: 2026,
            exact: false,
        }
    }

    fn months(a: Option<&str>, b: Option<&str>) -> Option<(Option<String>, Option<String>)> {
        Some((a.map(str::to_owned), b.map(str::to_owned)))
    }

    #[test]
    fn whole_months_come_from_the_tallies_and_the_ends_from_the_rows() {
        let p = Plan::of(&filter(None, None));
        assert_eq!((p.tallies, p.rows), (months(None, None), vec![]));
        let p = Plan::of(&filter(Some(at(2, 1, 0)), Some(at(5, 1, 0))));
        assert_eq!(
            (p.tallies, p.rows),
            (months(Some("2026-02"), Some("2026-05")), vec![])
        );
        let p = Plan::of(&filter(Some(at(1, 15, 0)), Some(at(4, 10, 12))));
        assert_eq!(p.tallies, months(Some("2026-02"), Some("2026-04")));
        assert_eq!(
            p.rows,
            vec![
                (Some(at(1, 15, 0)), Some(at(2, 1, 0))),
                (Some(at(4, 1, 0)), Some(at(4, 10, 12)))
            ]
        );
        let p = Plan::of(&filter(Some(at(12, 8, 0)), None));
        assert_eq!(p.tallies, months(Some("2027-01"), None));
        assert_eq!(
            p.rows,
            vec![(
                Some(at(12, 8, 0)),
                Some(at(1, 1, 0) + chrono::Months::new(12))
            )]
        );
    }

    #[test]
    fn a_period_inside_a_month_or_a_round_is_counted_from_the_rows() {
        let inside = filter(Some(at(2, 8, 0)), Some(at(2, 9, 0)));
        assert_eq!(Plan::of(&inside).tallies, None);
        assert_eq!(Plan::of(&inside).rows, vec![(inside.from, inside.until)]);
        let round = IndicatorFilter {
            round: Some("round-7".into()),
            ..filter(None, None)
        };
        assert_eq!(Plan::of(&round).tallies, None);
        let exact = IndicatorFilter {
            exact: true,
            ..filter(None, None)
        };
        assert_eq!(Plan::of(&exact).rows, vec![(None, None)]);
    }

    #[test]
    fn merging_adds_cells_and_drops_what_comes_to_nothing() {
        let g = |group: &str, n: i64| GroupCount {
            group: group.into(),
            sex: "female".into(),
            age_band: "0-4".into(),
            count: n,
        };
        let merged = merge_groups([g("open", 2), g("open", 3), g("closed", 1), g("closed", -1)]);
        assert_eq!(merged, vec![g("open", 5)]);
    }
}
