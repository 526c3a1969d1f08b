//! Progress of long statements while `migrate up`/`down` runs them: a line redrawn in place on a terminal,
//! quiet log lines elsewhere, nothing for statements that finish quickly.
//!
//! The runner's connection is busy while its statement runs, so what the database knows about the
//! statement's progress is read from elsewhere: a [`Watch`], which a [`super::Database`] hands out for each
//! statement (PostgreSQL: a second session that reads the progress views, opened only once the statement
//! has run a while: `dialect::postgres::progress`). A watch that fails (no second connection, no
//! permission) only turns progress off for the rest of the run, with one note; it never fails the
//! migration. Without a watch (SQLite) the elapsed time is all there is to show.

use std::cell::Cell;
use std::io::Write;
use std::time::{Duration, Instant};

/// What a running statement is doing, as the database reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    /// A step the database measures (an index build, a backfill's batches).
    Step(Step),
    /// Waiting for a lock that these server processes hold.
    WaitingForLock { holders: Vec<i64> },
    /// Running, with nothing measured (a table rewrite): the elapsed time is all there is.
    Running,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What is done to which object: `building index public.t_a`.
    pub action: String,
    /// The database's name of the current phase, if it reports phases.
    pub phase: Option<String>,
    /// How far along, from 0 to 1, where the database tells.
    pub fraction: Option<f64>,
    /// Whether `fraction` is an estimate (shown as `~45%`).
    pub approximate: bool,
    /// The numbers behind it: `blocks 1200 of 2600`.
    pub detail: Option<String>,
    /// The server processes whose locks it waits for now (a backfill's batch on a locked row).
    pub blocked_by: Vec<i64>,
}

/// Why a watch stopped; progress shows the elapsed time only for the rest of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchError(pub String);

/// Reads the progress of one statement while the runner's connection runs it. Dropped or closed when the
/// statement ends.
#[allow(async_fn_in_trait)]
pub trait Watch {
    /// What the statement is doing now. The first call may open what it reads from.
    async fn poll(&mut self) -> Result<Activity, WatchError>;
    /// Closes what `poll` opened.
    async fn close(self);
}

/// The watch of a database that has none (SQLite): never constructed.
pub enum NoWatch {}

impl Watch for NoWatch {
    async fn poll(&mut self) -> Result<Activity, WatchError> {
        match *self {}
    }
    async fn close(self) {}
}

/// The statement a report is about.
#[derive(Debug, Clone, Copy)]
pub struct Label<'a> {
    /// The migration's id, with ` (down)` when it is reverted.
    pub migration: &'a str,
    /// 1-based.
    pub statement: usize,
    pub statements: usize,
    pub sql: &'a str,
}

/// When a statement is looked at, and when it is reported.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    /// The first look (and the watch's first poll, which opens its connection): statements that end
    /// before cost nothing.
    first: Duration,
    /// Between two looks.
    every: Duration,
}

/// On a terminal: look after 1 s, redraw once a second.
const BAR: Schedule = Schedule { first: Duration::from_secs(1), every: Duration::from_secs(1) };
/// In logs: a first line once a statement has run 3 s, then one every 10 s.
const LINES: Schedule = Schedule { first: Duration::from_secs(3), every: Duration::from_secs(10) };

enum Mode {
    Off,
    Lines(Box<dyn Write>),
    Bar,
}

/// How a run reports progress, and whether watching still works.
pub struct Progress {
    mode: Mode,
    schedule: Schedule,
    /// Set once a watch has failed: no more watches this run.
    failed: bool,
}

impl Progress {
    /// No progress at all: statements run exactly as without it (no watch is asked for).
    pub fn off() -> Progress {
        Progress { mode: Mode::Off, schedule: LINES, failed: false }
    }

    /// A line redrawn in place on stderr when it is a terminal that can do it, otherwise quiet lines on
    /// stderr.
    pub fn stderr() -> Progress {
        // The drawing library's own test (a terminal, and TERM set and not `dumb`): where it would draw
        // nothing, lines are written instead.
        if !indicatif::ProgressDrawTarget::stderr().is_hidden() {
            Progress { mode: Mode::Bar, schedule: BAR, failed: false }
        } else {
            Progress { mode: Mode::Lines(Box::new(std::io::stderr())), schedule: LINES, failed: false }
        }
    }

    pub fn is_off(&self) -> bool {
        matches!(self.mode, Mode::Off)
    }

    /// Whether to ask the database for a watch on the next statement.
    pub fn wants_watch(&self) -> bool {
        !self.is_off() && !self.failed
    }

    /// Runs `work` (one statement) and reports on it while it runs, through `watch` if there is one.
    /// Returns what `work` returned, once the watch is closed.
    pub async fn during<T, W: Watch>(
        &mut self,
        label: Label<'_>,
        watch: Option<W>,
        work: impl Future<Output = T>,
    ) -> T {
        if self.is_off() {
            return work.await;
        }
        let started = Instant::now();
        let done = Cell::new(false);
        let stop = tokio::sync::Notify::new();
        let work = async {
            let result = work.await;
            done.set(true);
            stop.notify_one();
            result
        };
        let (result, ()) = tokio::join!(work, self.observe(label, watch, started, &done, &stop));
        result
    }

    async fn observe<W: Watch>(
        &mut self,
        label: Label<'_>,
        mut watch: Option<W>,
        started: Instant,
        done: &Cell<bool>,
        stop: &tokio::sync::Notify,
    ) {
        let mut bar: Option<indicatif::ProgressBar> = None;
        let mut next = started + self.schedule.first;
        loop {
            tokio::select! {
                _ = stop.notified() => break,
                _ = tokio::time::sleep_until(next.into()) => {}
            }
            let activity = match watch.as_mut() {
                Some(w) => tokio::select! {
                    // The statement ended while the watch was reading (or connecting): stop at once.
                    _ = stop.notified() => break,
                    polled = w.poll() => polled,
                },
                None => Ok(Activity::Running),
            };
            if done.get() {
                break;
            }
            let activity = match activity {
                Ok(activity) => activity,
                Err(WatchError(why)) => {
                    self.failed = true;
                    if let Some(w) = watch.take() {
                        close(w).await;
                    }
                    self.note(&label, started.elapsed(), bar.as_ref(), &why);
                    Activity::Running
                }
            };
            let line = describe(&label, &activity);
            match &mut self.mode {
                Mode::Off => {}
                Mode::Lines(out) => {
                    let _ = writeln!(out, "  [{}] {}: {}", elapsed(started.elapsed()), label.migration, line.text());
                    let _ = out.flush();
                }
                Mode::Bar => draw(bar.get_or_insert_with(new_bar), &label, started.elapsed(), &line),
            }
            next += self.schedule.every;
            // A poll that took longer than a period is not followed by a burst of catch-up polls.
            next = next.max(Instant::now());
        }
        if let Some(w) = watch {
            close(w).await;
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }

    /// Says once why progress stopped.
    fn note(&mut self, label: &Label<'_>, at: Duration, bar: Option<&indicatif::ProgressBar>, why: &str) {
        let text = format!(
            "  [{}] {}: progress not available ({why}); the migration goes on, showing the elapsed time only",
            elapsed(at),
            label.migration
        );
        match &mut self.mode {
            Mode::Off => {}
            Mode::Lines(out) => {
                let _ = writeln!(out, "{text}");
            }
            Mode::Bar => match bar {
                Some(bar) => bar.suspend(|| eprintln!("{text}")),
                None => eprintln!("{text}"),
            },
        }
    }
}

/// Closing a watch never holds up the migration for long: a connection that does not close within a
/// second is dropped instead.
async fn close<W: Watch>(watch: W) {
    let _ = tokio::time::timeout(Duration::from_secs(1), watch.close()).await;
}

/// A report's text, split where the bar goes.
struct Line {
    /// What is happening: `building index public.t_a (scanning table)`.
    head: String,
    /// `45%`, `~45%`.
    percent: Option<(f64, String)>,
    /// After the percentage, or after the head: `blocks 1200 of 2600`.
    detail: Option<String>,
}

impl Line {
    fn text(&self) -> String {
        match (&self.percent, &self.detail) {
            (Some((_, percent)), Some(detail)) => format!("{}: {percent} ({detail})", self.head),
            (Some((_, percent)), None) => format!("{}: {percent}", self.head),
            (None, Some(detail)) => format!("{}: {detail}", self.head),
            (None, None) => self.head.clone(),
        }
    }
}

fn describe(label: &Label<'_>, activity: &Activity) -> Line {
    let statement = format!("statement {} of {}", label.statement, label.statements);
    match activity {
        Activity::Step(step) => {
            let head = match &step.phase {
                Some(phase) => format!("{} ({phase})", step.action),
                None => step.action.clone(),
            };
            let percent = step.fraction.map(|f| {
                let f = f.clamp(0.0, 1.0);
                // An estimate never claims to be done while the statement still runs.
                let (shown, tilde) = if step.approximate { ((f * 100.0).min(99.0), "~") } else { (f * 100.0, "") };
                (f, format!("{tilde}{}%", shown.floor() as u64))
            });
            let detail = match (&step.detail, step.blocked_by.is_empty()) {
                (detail, true) => detail.clone(),
                (Some(detail), false) => Some(format!("{detail}; {}", waiting(&step.blocked_by))),
                (None, false) => Some(waiting(&step.blocked_by)),
            };
            Line { head, percent, detail }
        }
        Activity::WaitingForLock { holders } => Line {
            head: format!("{statement} {} ({})", waiting(holders), excerpt(label.sql)),
            percent: None,
            detail: None,
        },
        Activity::Running => Line {
            head: format!("{statement} running ({}); the database reports no progress for it", excerpt(label.sql)),
            percent: None,
            detail: None,
        },
    }
}

/// `waiting for a lock held by server process 42`.
fn waiting(holders: &[i64]) -> String {
    let holders: Vec<String> = holders.iter().map(i64::to_string).collect();
    match holders.len() {
        0 => "waiting for a lock".to_string(),
        1 => format!("waiting for a lock held by server process {}", holders[0]),
        _ => format!("waiting for a lock held by server processes {}", holders.join(", ")),
    }
}

/// The statement's first line that is not a comment, shortened.
fn excerpt(sql: &str) -> String {
    const MAX: usize = 60;
    let line = sql.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("--")).unwrap_or_default();
    let line: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// `7s`, `2m05s`, `1h02m`.
fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

fn new_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    // One message per poll, cut at the terminal's width (a wrapped line would not be redrawn in place).
    if let Ok(style) = indicatif::ProgressStyle::with_template("{wide_msg}") {
        bar.set_style(style);
    }
    bar
}

/// The terminal's line: what matters first, since it is cut at the terminal's width.
fn draw(bar: &indicatif::ProgressBar, label: &Label<'_>, at: Duration, line: &Line) {
    const WIDTH: usize = 20;
    let gauge = match &line.percent {
        Some((fraction, percent)) => {
            let filled = ((fraction.clamp(0.0, 1.0) * WIDTH as f64) as usize).min(WIDTH);
            let tip = if filled < WIDTH { ">" } else { "" };
            format!("[{}{tip}{}] {percent} ", "=".repeat(filled), " ".repeat(WIDTH - filled - tip.len()))
        }
        None => String::new(),
    };
    let detail = line.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default();
    bar.set_message(format!("  [{}] {gauge}{}{detail} ({})", elapsed(at), line.head, label.migration));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(sql: &str) -> Label<'_> {
        Label { migration: "20240101000000_add_index", statement: 2, statements: 3, sql }
    }

    #[test]
    fn elapsed_is_short() {
        assert_eq!(elapsed(Duration::from_millis(12_400)), "12s");
        assert_eq!(elapsed(Duration::from_secs(125)), "2m05s");
        assert_eq!(elapsed(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn a_step_reads_as_action_phase_percent_and_numbers() {
        let step = Step {
            action: "building index public.t_a".into(),
            phase: Some("scanning table".into()),
            fraction: Some(1200.0 / 2600.0),
            approximate: false,
            detail: Some("blocks 1200 of 2600".into()),
            blocked_by: Vec::new(),
        };
        assert_eq!(
            describe(&label(""), &Activity::Step(step.clone())).text(),
            "building index public.t_a (scanning table): 46% (blocks 1200 of 2600)"
        );
        let estimate = Step { fraction: Some(1.3), approximate: true, phase: None, blocked_by: vec![42], ..step };
        assert_eq!(
            describe(&label(""), &Activity::Step(estimate)).text(),
            "building index public.t_a: ~99% (blocks 1200 of 2600; waiting for a lock held by server process 42)",
            "an estimate past the end says 99% while the statement runs"
        );
    }

    #[test]
    fn without_measure_the_statement_is_named() {
        let sql = "-- retype\nALTER TABLE public.accounts ALTER COLUMN id TYPE bigint USING id::bigint, ALTER COLUMN x SET NOT NULL;";
        assert_eq!(
            describe(&label(sql), &Activity::Running).text(),
            "statement 2 of 3 running (ALTER TABLE public.accounts ALTER COLUMN id TYPE bigint USIN…); the \
             database reports no progress for it"
        );
        assert_eq!(
            describe(&label("LOCK t"), &Activity::WaitingForLock { holders: vec![42, 43] }).text(),
            "statement 2 of 3 waiting for a lock held by server processes 42, 43 (LOCK t)"
        );
    }
}
