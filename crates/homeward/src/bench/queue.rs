//! `homeward bench queue`: the case system's door into the engine against `homeward link`'s, on
//! the same lists (issue 13 §4). Generator 1's lists are imported as a tracing list and then a
//! custody list into a fresh SQLite store, each import running its matching before it returns;
//! the review queue is read back as a mediator's reviewer reads it. The very records stored are
//! then linked by the engine with the same (default) model. Printed: the import times, the queue's
//! recall and its size per true pair, and the engine's review-band recall.

use super::synth;
use crate::bench_backends::caller_of;
use anyhow::{Context, bail};
use homeward_app::import::ImportOptions;
use homeward_app::matching::{QueueQuery, RANK_MARGIN, linkage_columns, rank_cut, table_of};
use homeward_app::{App, AppConfig};
use homeward_domain::{ChildRecord, RecordId, RecordKind};
use homeward_linkage::{LinkConfig, Model, link};
use homeward_store::Store;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct BenchQueueArgs {
    /// Tracing requests (generator 1's left list), imported first.
    #[arg(long, default_value_t = 5_000)]
    pub left: usize,
    /// Custody records (generator 1's right list), imported against them.
    #[arg(long, default_value_t = 28_000)]
    pub right: usize,
    /// Seed of the synthetic lists.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Instead of generating: a directory with `left.csv`, `right.csv` and `truth.csv`, as
    /// `homeward bench link --keep DIR` writes them for either generator (generator 2's lists
    /// keep their own headers and dirty cells).
    #[arg(long, value_name = "DIR")]
    pub lists: Option<std::path::PathBuf>,
    /// Import rows with an unreadable sex or date, the value kept in the notes (as
    /// `homeward import --keep-unreadable`), instead of refusing them.
    #[arg(long)]
    pub keep_unreadable: bool,
    /// A PostgreSQL server (any database on it) where a fresh database is created for the run
    /// and dropped after it, instead of a SQLite file.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
}

/// The fields a record of `kind` needs besides the child, with the same value on every row (they
/// are not compared).
fn required_extras(kind: RecordKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        RecordKind::TracingRequest => (
            &["enquirer_name", "enquirer_relationship"],
            &["Synthetic enquirer", "mother"],
        ),
        RecordKind::CustodyRecord => (&["current_location"], &["Synthetic care home"]),
    }
}

/// A list written for `homeward link` (an `id` column, the generator's own headers, which the
/// import recognises as it does any file) as an import file of `kind`: the id becomes the
/// external reference and the fields the kind requires are added.
fn import_csv(
    header: &csv::StringRecord,
    rows: impl Iterator<Item = csv::StringRecord>,
    kind: RecordKind,
) -> anyhow::Result<Vec<u8>> {
    let (extra_header, extra_cells) = required_extras(kind);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(
        header
            .iter()
            .map(|h| if h == "id" { "external_ref" } else { h })
            .chain(extra_header.iter().copied()),
    )?;
    for r in rows {
        w.write_record(r.iter().chain(extra_cells.iter().copied()))?;
    }
    Ok(w.into_inner()?)
}

/// The tracing list and the custody list as import files, and the true pairs by id.
type ImportLists = (Vec<u8>, Vec<u8>, HashSet<(String, String)>);

/// The two lists as import files and the true pairs (by id): generator 1's, or those of a
/// directory holding `left.csv`, `right.csv` and `truth.csv` (as `bench link --keep` and
/// generator 2 write them).
fn lists(args: &BenchQueueArgs) -> anyhow::Result<ImportLists> {
    let Some(dir) = &args.lists else {
        // With the hand-written dates: the import reads them as `homeward link` does (flagged).
        let lists = synth::generate(args.seed, args.left, args.right, &synth::Rates::default());
        let header = csv::StringRecord::from(synth::COLUMNS.to_vec());
        let rows = |side: &[synth::Record]| {
            side.iter()
                .map(|r| csv::StringRecord::from(r.values().to_vec()))
                .collect::<Vec<_>>()
        };
        let truth = lists
            .truth
            .iter()
            .map(|&(i, j)| {
                (
                    lists.left[i as usize].id.clone(),
                    lists.right[j as usize].id.clone(),
                )
            })
            .collect();
        return Ok((
            import_csv(
                &header,
                rows(&lists.left).into_iter(),
                RecordKind::TracingRequest,
            )?,
            import_csv(
                &header,
                rows(&lists.right).into_iter(),
                RecordKind::CustodyRecord,
            )?,
            truth,
        ));
    };
    let read = |name: &str, kind: RecordKind| -> anyhow::Result<Vec<u8>> {
        let path = dir.join(name);
        let mut r = csv::Reader::from_path(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let header = r.headers()?.clone();
        let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>()?;
        import_csv(&header, rows.into_iter(), kind)
    };
    let truth = super::held_out::read_truth(&dir.join("truth.csv"))?;
    Ok((
        read("left.csv", RecordKind::TracingRequest)?,
        read("right.csv", RecordKind::CustodyRecord)?,
        truth,
    ))
}

/// Stored records of `kind`, every page.
async fn stored(store: &dyn Store, kind: RecordKind) -> anyhow::Result<Vec<ChildRecord>> {
    let mut out: Vec<ChildRecord> = Vec::new();
    loop {
        let page = store
            .records_of_kind(kind, out.last().map(|r| r.id), 5_000)
            .await?;
        let done = page.len() < 5_000;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// Share of `truth` among `pairs`.
fn recall(pairs: &HashSet<(String, String)>, truth: &HashSet<(String, String)>) -> f64 {
    pairs.intersection(truth).count() as f64 / truth.len().max(1) as f64
}

pub async fn run(args: &BenchQueueArgs) -> anyhow::Result<()> {
    if args.left == 0 || args.right == 0 {
        bail!("--left and --right must be at least 1");
    }
    let (sought, held, truth) = lists(args)?;
    let dir = tempfile::Builder::new()
        .prefix("homeward-bench-queue-")
        .tempdir()?;
    let scratch = match &args.postgres {
        Some(admin) => Some(
            homeward_store::scratch::ScratchDatabase::create(admin, "homeward_bench_queue")
                .await
                .context("creating a database on the PostgreSQL server")?,
        ),
        None => None,
    };
    let url = match &scratch {
        Some(db) => db.url.clone(),
        None => homeward_store::sqlite_url_for_dir(dir.path()),
    };
    let figures = measure(args, &url, &sought, &held, &truth).await;
    if let Some(db) = scratch {
        db.remove().await?;
    }
    print_figures(args, &figures?);
    Ok(())
}

/// Imports both lists into the empty store at `url`, reads the queue, links the stored records.
async fn measure(
    args: &BenchQueueArgs,
    url: &str,
    sought: &[u8],
    held: &[u8],
    truth: &HashSet<(String, String)>,
) -> anyhow::Result<Figures> {
    let app = App::new(homeward_store::connect(url).await?, AppConfig::default());
    let origin = caller_of(&app, "origin", "caseworker").await?;
    let custody = caller_of(&app, "custody", "caseworker").await?;
    let reviewer = caller_of(&app, "mediator", "reviewer").await?;
    let options = ImportOptions {
        skip_invalid: true,
        keep_unreadable: args.keep_unreadable,
        ..ImportOptions::default()
    };
    let worker = App::worker_name("bench");
    let t = Instant::now();
    let a = app
        .import_records(&origin, sought, &options, &|_| {})
        .await?;
    app.drain_jobs(&worker).await?;
    let sought_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let b = app
        .import_records(&custody, held, &options, &|_| {})
        .await?;
    app.drain_jobs(&worker).await?;
    let held_s = t.elapsed().as_secs_f64();

    let mut queue: HashMap<(RecordId, RecordId), (f64, bool)> = HashMap::new();
    let mut after = None;
    loop {
        let q = QueueQuery {
            min_probability: None,
            max_probability: None,
            after: after.take(),
            limit: Some(homeward_app::matching::MAX_QUEUE_PAGE),
        };
        let page = app.review_queue(&reviewer, &q).await?;
        queue.extend(page.items.iter().map(|c| {
            (
                (c.tracing_record_id, c.custody_record_id),
                (c.match_weight, c.possibly_renamed),
            )
        }));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    app.close().await;

    // The very records stored, through the engine's own door with the queue's model.
    let store = homeward_store::connect(url).await?;
    let tracing = stored(store.as_ref(), RecordKind::TracingRequest).await?;
    let custody_records = stored(store.as_ref(), RecordKind::CustodyRecord).await?;
    let ext: HashMap<RecordId, String> = tracing
        .iter()
        .chain(&custody_records)
        .map(|r| (r.id, r.content.external_ref.clone().unwrap_or_default()))
        .collect();
    let model = Model::with_defaults(&linkage_columns());
    let t = Instant::now();
    let out = link(
        &table_of(&tracing)?,
        &table_of(&custody_records)?,
        &LinkConfig::default(),
        Some(&model),
        &|_| {},
    )?;
    let link_s = t.elapsed().as_secs_f64();
    let by_ext = |t: &RecordId, c: &RecordId| {
        (
            ext.get(t).cloned().unwrap_or_default(),
            ext.get(c).cloned().unwrap_or_default(),
        )
    };
    let engine: HashSet<(String, String)> = out
        .pairs
        .iter()
        .filter_map(|p| Some(by_ext(&p.left_id.parse().ok()?, &p.right_id.parse().ok()?)))
        .collect();
    let queued: HashSet<(String, String)> = queue.keys().map(|(t, c)| by_ext(t, c)).collect();
    let ranked: Vec<(RecordId, RecordId, f64, bool)> = queue
        .iter()
        .map(|(&(t, c), &(w, renamed))| (t, c, w, renamed))
        .collect();
    let cuts = RANK_MARGINS
        .iter()
        .flat_map(|&m| [(m, true), (m, false)])
        .map(|(margin, either)| {
            let kept: HashSet<(String, String)> = ranked
                .iter()
                .zip(rank_cut(&ranked, margin, either))
                .filter(|(_, k)| *k)
                .map(|((t, c, _, _), _)| by_ext(t, c))
                .collect();
            Cut {
                margin,
                either,
                recall: recall(&kept, truth),
                size: kept.len(),
            }
        })
        .collect();
    let refs: HashSet<&String> = ext.values().collect();
    let stored_truth: HashSet<(String, String)> = truth
        .iter()
        .filter(|(t, c)| refs.contains(t) && refs.contains(c))
        .cloned()
        .collect();
    store.close().await;
    Ok(Figures {
        skipped: (a.rejected.len(), b.rejected.len()),
        kept: (a.kept_unreadable.len(), b.kept_unreadable.len()),
        loose: (a.read_loosely.len(), b.read_loosely.len()),
        sought_s,
        held_s,
        link_s,
        truth: truth.len(),
        stored_truth: stored_truth.len(),
        queue_recall: recall(&queued, truth),
        queue_recall_stored: recall(&queued, &stored_truth),
        queue_size: queued.len(),
        engine_recall: recall(&engine, truth),
        engine_size: engine.len(),
        cuts,
    })
}

struct Figures {
    skipped: (usize, usize),
    /// Rows imported with a value not read (`--keep-unreadable`).
    kept: (usize, usize),
    /// Rows with a birth date read loosely (written by hand), flagged to check.
    loose: (usize, usize),
    sought_s: f64,
    held_s: f64,
    link_s: f64,
    truth: usize,
    stored_truth: usize,
    queue_recall: f64,
    queue_recall_stored: f64,
    queue_size: usize,
    engine_recall: f64,
    engine_size: usize,
    /// The queue as it would be under a stricter rank cut (computed on the queue stored).
    cuts: Vec<Cut>,
}

/// Margins (log2-odds below a record's best partner) at which the queue is shown cut, to choose
/// `RANK_MARGIN` on generator 1.
const RANK_MARGINS: [f64; 6] = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0];

struct Cut {
    margin: f64,
    either: bool,
    recall: f64,
    size: usize,
}

fn print_figures(args: &BenchQueueArgs, f: &Figures) {
    println!(
        "queue benchmark: {}, {}, default model",
        match &args.lists {
            Some(d) => format!("lists of {}", d.display()),
            None => format!(
                "generator 1 (seed {}), {} tracing requests then {} custody records",
                args.seed, args.left, args.right
            ),
        },
        if args.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "  rows refused by the import   {} tracing, {} custody; true pairs {} ({} with both records stored)",
        f.skipped.0, f.skipped.1, f.truth, f.stored_truth
    );
    println!(
        "  rows with values kept aside  {} tracing, {} custody (--keep-unreadable {})",
        f.kept.0,
        f.kept.1,
        if args.keep_unreadable { "on" } else { "off" }
    );
    println!(
        "  birth dates read loosely     {} tracing, {} custody (written by hand; flagged to check)",
        f.loose.0, f.loose.1
    );
    println!(
        "  import, matching included    tracing {:.2} s, custody {:.2} s",
        f.sought_s, f.held_s
    );
    println!(
        "  review queue (stored)        recall {:.4} ({:.4} of the pairs stored), {} pairs queued, {:.2} per true pair",
        f.queue_recall,
        f.queue_recall_stored,
        f.queue_size,
        f.queue_size as f64 / f.truth.max(1) as f64
    );
    println!(
        "  homeward link, review band   recall {:.4}, {} pairs, {:.2} s",
        f.engine_recall, f.engine_size, f.link_s
    );
    println!(
        "  queue recall − engine recall {:+.4}",
        f.queue_recall - f.engine_recall
    );
    println!(
        "  rank cut in matching         within {} of the best partner of both records",
        RANK_MARGIN
    );
    for c in &f.cuts {
        println!(
            "    cut at {:>4.1}, {:6}       recall {:.4}, {} pairs, {:.2} per true pair",
            c.margin,
            if c.either { "either" } else { "both" },
            c.recall,
            c.size,
            c.size as f64 / f.truth.max(1) as f64
        );
    }
}
