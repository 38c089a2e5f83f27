//! Statistical disclosure control for the public statistics: which cells of a table of counts may
//! be published, and how.
//!
//! The children are few and the stakes high, so a published table follows three rules:
//! - **primary suppression**: a cell (or total) under [`THRESHOLD`] is not published;
//! - **secondary suppression**: no suppressed cell can be worked out from what is published. The
//!   row, column and grand totals are published beside the cells, so each line of the table gives
//!   one equation. A suppressed cell is recoverable from those equations exactly when it is a
//!   *bridge* of the graph whose vertices are the table's lines (totals included) and whose edges
//!   are the suppressed cells (a cell on a cycle can move by +1/−1 around the cycle without changing
//!   any line's sum; a bridge cannot: conservation across the cut it spans fixes it). So more
//!   cells are suppressed, cheapest first, until no suppressed cell is a bridge;
//! - **rounding**: every published figure is rounded to the nearest multiple of [`ROUNDING_BASE`]
//!   (halves up), each on its own, so published cells need not add up to published totals.
//!
//! Names here say `stats` so as not to clash with [`crate::disclosure`] (what the mediator tells
//! the counterpart about one child).

use serde::{Deserialize, Serialize};

/// Cells with fewer children than this are never published.
pub const THRESHOLD: u64 = 10;
/// Published figures are multiples of this.
pub const ROUNDING_BASE: u64 = 5;

/// A table of exact counts: `cells[row][column]`, without totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountTable {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub cells: Vec<Vec<u64>>,
}

/// One published figure, or the fact that it is withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum StatCell {
    /// The count rounded to [`ROUNDING_BASE`].
    Published(u64),
    /// Under the threshold, or withheld so that a cell under it cannot be worked out.
    Suppressed,
}

impl StatCell {
    pub fn value(self) -> Option<u64> {
        match self {
            Self::Published(v) => Some(v),
            Self::Suppressed => None,
        }
    }
}

/// A table as published: the interior cells, each row's total, each column's total and the grand
/// total, each published (rounded) or suppressed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtectedTable {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub cells: Vec<Vec<StatCell>>,
    pub row_totals: Vec<StatCell>,
    pub column_totals: Vec<StatCell>,
    pub total: StatCell,
}

/// Rounds to the nearest multiple of [`ROUNDING_BASE`], halves up.
pub fn round_to_base(n: u64) -> u64 {
    (n + ROUNDING_BASE / 2) / ROUNDING_BASE * ROUNDING_BASE
}

/// The table with its totals: one row and one column more, the grand total in the corner.
pub fn with_totals(cells: &[Vec<u64>], columns: usize) -> Vec<Vec<u64>> {
    let mut grid: Vec<Vec<u64>> = cells
        .iter()
        .map(|row| {
            let mut r: Vec<u64> = (0..columns)
                .map(|j| row.get(j).copied().unwrap_or(0))
                .collect();
            r.push(r.iter().sum());
            r
        })
        .collect();
    let totals: Vec<u64> = (0..=columns)
        .map(|j| grid.iter().map(|r| r[j]).sum())
        .collect();
    grid.push(totals);
    grid
}

/// Which cells of a table with its totals (as [`with_totals`] makes it) are suppressed: every
/// cell under [`THRESHOLD`], then as few further cells as the greedy choice finds so that no
/// suppressed cell can be worked out from the published ones.
pub fn suppression_pattern(grid: &[Vec<u64>]) -> Vec<Vec<bool>> {
    let mut hidden: Vec<Vec<bool>> = grid
        .iter()
        .map(|row| row.iter().map(|&v| v < THRESHOLD).collect())
        .collect();
    while let Some((r, c)) = first_bridge(&hidden) {
        close_cycle(grid, &mut hidden, r, c);
    }
    hidden
}

/// Suppresses and rounds a table.
pub fn protect(table: &CountTable) -> ProtectedTable {
    let n_cols = table.columns.len();
    let grid = with_totals(&table.cells, n_cols);
    let hidden = suppression_pattern(&grid);
    let cell = |i: usize, j: usize| {
        if hidden[i][j] {
            StatCell::Suppressed
        } else {
            StatCell::Published(round_to_base(grid[i][j]))
        }
    };
    let n_rows = table.rows.len();
    ProtectedTable {
        rows: table.rows.clone(),
        columns: table.columns.clone(),
        cells: (0..n_rows)
            .map(|i| (0..n_cols).map(|j| cell(i, j)).collect())
            .collect(),
        row_totals: (0..n_rows).map(|i| cell(i, n_cols)).collect(),
        column_totals: (0..n_cols).map(|j| cell(n_rows, j)).collect(),
        total: cell(n_rows, n_cols),
    }
}

/// A suppressed cell that is a bridge (recoverable from its lines' sums), if any.
fn first_bridge(hidden: &[Vec<bool>]) -> Option<(usize, usize)> {
    let cells: Vec<(usize, usize)> = hidden
        .iter()
        .enumerate()
        .flat_map(|(i, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, h)| **h)
                .map(move |(j, _)| (i, j))
        })
        .collect();
    cells
        .iter()
        .copied()
        .find(|&(r, c)| !connected_without(hidden, r, c))
}

/// Whether row `r` and column `c` are joined by suppressed cells other than `(r, c)` itself
/// (then `(r, c)` lies on a cycle). Rows are vertices `0..R`, columns `R..R+C`.
fn connected_without(hidden: &[Vec<bool>], r: usize, c: usize) -> bool {
    let n_rows = hidden.len();
    let n_cols = hidden.first().map_or(0, Vec::len);
    let mut seen = vec![false; n_rows + n_cols];
    let mut stack = vec![r];
    seen[r] = true;
    while let Some(v) = stack.pop() {
        let next: Vec<usize> = if v < n_rows {
            (0..n_cols)
                .filter(|&j| hidden[v][j] && (v, j) != (r, c))
                .map(|j| n_rows + j)
                .collect()
        } else {
            let j = v - n_rows;
            (0..n_rows)
                .filter(|&i| hidden[i][j] && (i, j) != (r, c))
                .collect()
        };
        for w in next {
            if !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        }
    }
    seen[n_rows + c]
}

/// Puts `(r, c)` on a four-cell cycle `(r, c) (r, c2) (r2, c2) (r2, c)`, choosing the row and
/// column that suppress the fewest children not suppressed yet. Adding cells never turns a cell on
/// a cycle into a bridge, so each call leaves one bridge fewer.
fn close_cycle(grid: &[Vec<u64>], hidden: &mut [Vec<bool>], r: usize, c: usize) {
    let cost = |i: usize, j: usize, hidden: &[Vec<bool>]| {
        if hidden[i][j] { 0 } else { grid[i][j] + 1 }
    };
    let mut best: Option<(u64, usize, usize)> = None;
    for r2 in (0..grid.len()).filter(|&i| i != r) {
        for c2 in (0..grid[r].len()).filter(|&j| j != c) {
            let total = cost(r, c2, hidden) + cost(r2, c2, hidden) + cost(r2, c, hidden);
            if best.is_none_or(|(b, _, _)| total < b) {
                best = Some((total, r2, c2));
            }
        }
    }
    if let Some((_, r2, c2)) = best {
        hidden[r][c2] = true;
        hidden[r2][c2] = true;
        hidden[r2][c] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rank of a matrix, by Gaussian elimination (small tables of 0/±1: f64 is exact enough).
    fn rank(mut m: Vec<Vec<f64>>) -> usize {
        let cols = m.first().map_or(0, Vec::len);
        let mut rank = 0;
        for col in 0..cols {
            let Some(p) = (rank..m.len()).find(|&i| m[i][col].abs() > 1e-9) else {
                continue;
            };
            m.swap(rank, p);
            let pivot = m[rank][col];
            let prow = m[rank].clone();
            for (i, row) in m.iter_mut().enumerate() {
                if i != rank && row[col].abs() > 1e-9 {
                    let f = row[col] / pivot;
                    for (x, y) in row.iter_mut().zip(&prow) {
                        *x -= f * y;
                    }
                }
            }
            rank += 1;
        }
        rank
    }

    /// Whether each suppressed cell of `grid` is determined by the published cells: independent
    /// of the bridge argument, by linear algebra on the line equations (every row: its cells sum
    /// to its total; every column likewise). Cell `k` is determined iff the unit vector `e_k` lies
    /// in the row space of the equations restricted to the unknowns.
    fn recoverable(grid: &[Vec<u64>], hidden: &[Vec<bool>]) -> Vec<(usize, usize)> {
        let (nr, nc) = (grid.len(), grid[0].len());
        let unknowns: Vec<(usize, usize)> = (0..nr)
            .flat_map(|i| (0..nc).map(move |j| (i, j)))
            .filter(|&(i, j)| hidden[i][j])
            .collect();
        let mut eqs = Vec::new();
        for i in 0..nr {
            eqs.push(
                unknowns
                    .iter()
                    .map(|&(a, b)| match (a == i, b == nc - 1) {
                        (true, false) => 1.0,
                        (true, true) => -1.0,
                        _ => 0.0,
                    })
                    .collect::<Vec<f64>>(),
            );
        }
        for j in 0..nc {
            eqs.push(
                unknowns
                    .iter()
                    .map(|&(a, b)| match (b == j, a == nr - 1) {
                        (true, false) => 1.0,
                        (true, true) => -1.0,
                        _ => 0.0,
                    })
                    .collect::<Vec<f64>>(),
            );
        }
        let base = rank(eqs.clone());
        unknowns
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                let mut with = eqs.clone();
                with.push(
                    (0..unknowns.len())
                        .map(|x| f64::from(u8::from(x == *k)))
                        .collect(),
                );
                rank(with) == base
            })
            .map(|(_, cell)| *cell)
            .collect()
    }

    fn table(cells: Vec<Vec<u64>>) -> CountTable {
        let n_cols = cells.first().map_or(0, Vec::len);
        CountTable {
            rows: (0..cells.len()).map(|i| format!("r{i}")).collect(),
            columns: (0..n_cols).map(|j| format!("c{j}")).collect(),
            cells,
        }
    }

    /// Small counts are the interesting ones: most tables mix cells under and over the threshold.
    fn tables() -> impl Strategy<Value = Vec<Vec<u64>>> {
        (1usize..7, 1usize..5).prop_flat_map(|(r, c)| {
            prop::collection::vec(
                prop::collection::vec(prop_oneof![0u64..10, 0u64..60, 100u64..1000], c),
                r,
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn no_suppressed_cell_is_recoverable_from_the_published_ones(cells in tables()) {
            let grid = with_totals(&cells, cells[0].len());
            let hidden = suppression_pattern(&grid);
            prop_assert_eq!(recoverable(&grid, &hidden), vec![]);
        }

        #[test]
        fn every_cell_under_the_threshold_is_suppressed_and_every_published_one_rounded(cells in tables()) {
            let t = table(cells);
            let p = protect(&t);
            let grid = with_totals(&t.cells, t.columns.len());
            let mut published = p.cells.clone();
            published.iter_mut().zip(&p.row_totals).for_each(|(row, tot)| row.push(*tot));
            let mut last = p.column_totals.clone();
            last.push(p.total);
            published.push(last);
            for (raw_row, pub_row) in grid.iter().zip(&published) {
                for (&raw, cell) in raw_row.iter().zip(pub_row) {
                    match cell {
                        StatCell::Suppressed => {}
                        StatCell::Published(v) => {
                            prop_assert!(raw >= THRESHOLD, "{raw} published");
                            prop_assert!(*v >= THRESHOLD);
                            prop_assert_eq!(v % ROUNDING_BASE, 0);
                            prop_assert!(v.abs_diff(raw) <= ROUNDING_BASE / 2, "{raw} → {v}");
                        }
                    }
                    if raw < THRESHOLD {
                        prop_assert_eq!(*cell, StatCell::Suppressed);
                    }
                }
            }
        }

        #[test]
        fn rounding_is_to_the_nearest_multiple_halves_up(n in 0u64..100_000) {
            let r = round_to_base(n);
            prop_assert_eq!(r % ROUNDING_BASE, 0);
            let rem = n % ROUNDING_BASE;
            prop_assert_eq!(r, if rem * 2 >= ROUNDING_BASE { n - rem + ROUNDING_BASE } else { n - rem });
        }
    }

    #[test]
    fn a_lone_small_cell_takes_others_with_it() {
        // 3 in a row of large counts: subtracting from the row total would give it away.
        let t = table(vec![vec![3, 40, 50], vec![20, 30, 60], vec![25, 35, 45]]);
        let p = protect(&t);
        assert_eq!(p.cells[0][0], StatCell::Suppressed);
        let hidden_in_row0 = p.cells[0].iter().filter(|c| c.value().is_none()).count();
        let hidden_in_col0 = p.cells.iter().filter(|r| r[0].value().is_none()).count();
        assert!(hidden_in_row0 >= 2 && hidden_in_col0 >= 2, "{p:?}");
        assert_eq!(p.total, StatCell::Published(round_to_base(308)));
    }

    #[test]
    fn two_separate_cycles_joined_by_a_cell_leave_no_bridge() {
        // The pattern a "two per line" rule accepts but subtraction breaks: a cell joining two
        // closed groups of suppressed cells is still recoverable.
        let mut hidden = vec![vec![false; 5]; 5];
        for (i, j) in [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
            (0, 2),
        ] {
            hidden[i][j] = true;
        }
        assert_eq!(first_bridge(&hidden), Some((0, 2)));
    }
}
