//! Schedules: a job queued at the ticks of a cron expression by every instance that
//! runs workers, and run once per tick, because each tick's job carries the tick as
//! its idempotency key.

use std::str::FromStr as _;
use std::time::Duration;

use tokio::sync::watch;

use super::store::Row;
use super::{Enqueued, JobMeta, Jobs};

/// A job to queue at each tick.
#[derive(Clone)]
pub(crate) struct Schedule {
    pub(crate) meta: &'static JobMeta,
    /// The expression as written, for messages.
    pub(crate) expr: String,
    pub(crate) cron: cron::Schedule,
    /// The arguments, serialized once.
    pub(crate) args: Vec<u8>,
}

/// Read a crontab expression: five fields (minute, hour, day of month, month, day of
/// week), or six with seconds first. What is wrong, as a sentence.
pub(crate) fn parse(expr: &str) -> Result<cron::Schedule, String> {
    let fields = expr.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {expr}"),
        6 => expr.to_owned(),
        n => {
            return Err(format!(
                "`{expr}` has {n} fields; a schedule has 5 (minute hour day month weekday) \
                 or 6 (seconds first)"
            ))
        }
    };
    cron::Schedule::from_str(&full).map_err(|e| format!("`{expr}` is not a schedule: {e}"))
}

/// Queue `schedule`'s job at each tick (in UTC) until stopped. A tick missed while no
/// instance ran is not made up.
pub(crate) async fn run(schedule: Schedule, jobs: Jobs, mut stopped: watch::Receiver<bool>) {
    let name = schedule.meta.name;
    loop {
        let Some(tick) = schedule.cron.upcoming(chrono::Utc).next() else {
            return;
        };
        let wait = (tick - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        let row = Row::new(
            name,
            schedule.args.clone(),
            schedule.meta.max_attempts,
            Some(format!("cron:{}", tick.timestamp())),
            None,
        );
        match jobs.inner.store.push(&row).await {
            Ok(done) => {
                jobs.inner.metrics.enqueued(name, &done);
                if let Enqueued::Added(id) = done {
                    tracing::debug!(target: "hasten::jobs", job = name, id, tick = %tick, "scheduled job queued");
                }
            }
            Err(e) => tracing::error!(
                target: "hasten::jobs",
                job = name,
                schedule = schedule.expr,
                error = %e,
                "a scheduled job could not be queued; the next tick tries again"
            ),
        }
        // Past the tick, so the next `upcoming` is the one after it.
        if chrono::Utc::now() <= tick {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn five_and_six_field_expressions_are_read() {
        assert!(parse("*/5 * * * *").is_ok());
        assert!(parse("0 3 * * Mon-Fri").is_ok());
        assert!(parse("*/10 * * * * *").is_ok());
        assert_eq!(
            parse("* * *").unwrap_err(),
            "`* * *` has 3 fields; a schedule has 5 (minute hour day month weekday) or 6 (seconds first)"
        );
        assert!(parse("61 * * * *")
            .unwrap_err()
            .starts_with("`61 * * * *` is not a schedule"));
    }
}
